// The demo's working folder: the demo writes only the entries it owns (DEMO_ENTRIES) and
// clears only those, only in a folder it made (the marker file says so) or one the user
// handed over with --force. Anything else in the folder is never touched.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.ts';

/** Written into every folder the demo prepared; its presence means "an earlier demo's". */
export const DEMO_MARKER = '.freshet-demo';
/** What the demo writes into its folder (and so what it may clear before a new run). */
export const DEMO_ENTRIES = ['data', 'artifacts', 'serving', 'pg', 'freshet.config.yaml', DEMO_MARKER] as const;

/**
 * Makes `dir` ready for a demo: creates it when missing; clears the demo's own entries in
 * an earlier demo's folder (or with `force`); refuses any other non-empty folder, naming
 * what is in it. Returns what it cleared.
 */
export function prepareDemoFolder(dir: string, force: boolean): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    entries = [];
  }
  const earlierDemo = entries.includes(DEMO_MARKER);
  if (entries.length > 0 && !earlierDemo && !force) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
    throw new ConfigError(`${dir} is not empty (${shown}) and is not an earlier demo's folder (no ${DEMO_MARKER} in it): the demo refuses to write there. Choose another --dir, or pass --force to let the demo clear and reuse ${DEMO_ENTRIES.slice(0, -1).join(', ')} in it (nothing else is touched).`);
  }
  const cleared = DEMO_ENTRIES.filter((entry) => entries.includes(entry));
  for (const entry of cleared) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, DEMO_MARKER), 'Written by `freshet demo`: the demo may clear data/, artifacts/, serving/, pg/ and freshet.config.yaml here when it runs again.\n');
  return cleared;
}
