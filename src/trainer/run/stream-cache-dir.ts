// Where a run's training stream keeps its parsed rows between passes (stream/row-cache.ts):
// artifactsDir/stream-cache/run-<id>-<random>, on disk next to the checkpoints. The stream
// removes it when it ends; a process killed before that leaves it behind, so starting a
// stream for a run first removes that run's earlier ones (a run is trained by one process
// at a time: its job's lease).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const STREAM_CACHE_DIR = 'stream-cache';

export function streamCacheDir(artifactsDir: string, runId: string): string {
  const root = path.join(artifactsDir, STREAM_CACHE_DIR);
  for (const stale of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (stale.startsWith(`run-${runId}-`)) fs.rmSync(path.join(root, stale), { recursive: true, force: true });
  }
  return path.join(root, `run-${runId}-${crypto.randomUUID()}`);
}
