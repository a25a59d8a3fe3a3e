// Synthetic partitions on disk, registered in the registry the way the watcher would.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { insertPartition, type Registry } from '../../src/registry/index.ts';
import { validatePartition } from '../../src/watcher/index.ts';
import { Rng } from '../../src/core/rng.ts';

export const FEATURES = ['x0', 'x1', 'x2', 'x3'];
export const LABEL = 'y';

export function tempDir(prefix = 'freshet-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** y = 3·x0 − 2·x1 + x2·x3 + noise: a little non-linearity for the MLP to find. */
export function syntheticRows(count: number, seed: number, shift = 0): number[][] {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  for (let i = 0; i < count; i++) {
    const x = FEATURES.map(() => rng.next() * 4 - 2 + shift);
    const y = 3 * x[0]! - 2 * x[1]! + x[2]! * x[3]! + (rng.next() - 0.5) * 0.2;
    rows.push([...x, y]);
  }
  return rows;
}

export function writeCsv(file: string, rows: number[][], header = [...FEATURES, LABEL]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${header.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
}

/** Writes `dt=<day>/part-0.csv` + `_SUCCESS` and registers it (sha256 over the files, as the watcher does). */
export async function addPartition(db: Registry, dataDir: string, day: string, rows: number[][]): Promise<string> {
  const rel = `dt=${day}`;
  const dir = path.join(dataDir, rel);
  writeCsv(path.join(dir, 'part-0.csv'), rows);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
  const bytes = fs.readFileSync(path.join(dir, 'part-0.csv'));
  // The statistics the watcher's validation pass would store (drift and schemas read them).
  const { stats } = await validatePartition(dir, [{ name: 'part-0.csv', bytes: bytes.byteLength }], { numericColumns: [...FEATURES, LABEL], invalidRows: 'skip' });
  const row = await insertPartition(db, {
    source: dataDir,
    path: rel,
    keys: { dt: day },
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    files: JSON.stringify([{ name: 'part-0.csv', bytes: bytes.byteLength }]),
    row_count: rows.length,
    stats: JSON.stringify(stats),
    status: 'registered',
    error: null,
    arrived_at: new Date(),
    detected_at: new Date(),
  });
  return row.id;
}
