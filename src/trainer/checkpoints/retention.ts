// Checkpoint retention and the consistency sweep between checkpoint rows and files.
//
// Deleting: the row goes first, then the files. A crash in between leaves files without a
// row, which the sweep at the next start removes; the opposite order could leave a row
// pointing at nothing, which a resume would trip over.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Logger } from '../../core/log.ts';
import { lineageCheckpointUris, deleteCheckpointRow, listRunCheckpoints, type Registry } from '../../registry/index.ts';
import { TEMP_PREFIX } from './atomic-dir.ts';
import { artifactStore, type ArtifactLocations } from './checkpoint-store.ts';

export const CHECKPOINTS_DIR = 'checkpoints';

export interface RetentionPolicy {
  keepLast: number;
  keepBest: number;
}

/** Checkpoint ids something refers to: model versions, runs (as base or result), promotions. */
async function referencedCheckpointIds(db: Registry): Promise<Set<string>> {
  const rows = await sql<{ id: string }>`
    select checkpoint_id as id from model_versions
    union select base_checkpoint_id from runs where base_checkpoint_id is not null
    union select result_checkpoint_id from runs where result_checkpoint_id is not null
    union select candidate_checkpoint_id from promotions where candidate_checkpoint_id is not null
  `.execute(db);
  return new Set(rows.rows.map((row) => String(row.id)));
}

/**
 * Keeps a run's last `keepLast` checkpoints, its best `keepBest` by validation loss, those
 * at `alsoKeepSteps`, and every checkpoint referenced elsewhere; deletes the rest, rows and
 * files together. Returns the deleted ids.
 */
export async function applyRetention(
  db: Registry,
  locations: ArtifactLocations,
  runId: string,
  policy: RetentionPolicy,
  alsoKeepSteps: readonly number[],
  log: Logger,
): Promise<string[]> {
  const checkpoints = await listRunCheckpoints(db, runId);
  const keep = await referencedCheckpointIds(db);
  for (const c of checkpoints.slice(-policy.keepLast)) keep.add(c.id);
  const byValLoss = checkpoints.filter((c) => c.val_loss !== null && Number.isFinite(c.val_loss)).sort((a, b) => a.val_loss! - b.val_loss!);
  for (const c of byValLoss.slice(0, policy.keepBest)) keep.add(c.id);
  for (const c of checkpoints) if (alsoKeepSteps.includes(Number(c.global_step))) keep.add(c.id);
  const deleted: string[] = [];
  for (const c of checkpoints) {
    if (keep.has(c.id)) continue;
    try {
      await deleteCheckpointRow(db, c.id);
    } catch (error) {
      if ((error as { code?: string }).code === '23503') continue; // referenced since we looked: keep it
      throw error;
    }
    fs.rmSync(path.join(locations.artifactsDir, c.uri), { recursive: true, force: true });
    await artifactStore(c.store, locations).remove(c); // the stored copy (s3), after the row: a crash leaves only unreferenced objects
    deleted.push(c.id);
  }
  if (deleted.length) log.debug({ run: runId, deleted }, 'checkpoint retention');
  return deleted;
}

/**
 * Removes what a crash can leave under the checkpoints folder: temporary directories, and
 * complete directories whose registry row was never inserted (or was deleted). Call it
 * when no trainer writes to this artifacts dir for the lineage (at the trainer's start).
 */
export async function sweepCheckpointFiles(db: Registry, artifactsDir: string, lineageId: string, log: Logger): Promise<string[]> {
  const lineageDir = path.join(artifactsDir, CHECKPOINTS_DIR, `lineage-${lineageId}`);
  if (!fs.existsSync(lineageDir)) return [];
  const known = new Set((await lineageCheckpointUris(db, lineageId)).map((uri) => path.normalize(uri)));
  const removed: string[] = [];
  for (const runDir of fs.readdirSync(lineageDir)) {
    const runPath = path.join(lineageDir, runDir);
    if (!fs.statSync(runPath).isDirectory()) continue;
    for (const entry of fs.readdirSync(runPath)) {
      const relative = path.normalize(path.join(CHECKPOINTS_DIR, `lineage-${lineageId}`, runDir, entry));
      if (entry.startsWith(TEMP_PREFIX) || !known.has(relative)) {
        fs.rmSync(path.join(artifactsDir, relative), { recursive: true, force: true });
        removed.push(relative);
      }
    }
  }
  if (removed.length) log.warn({ lineage: lineageId, removed }, 'removed checkpoint files left without a registry row (an earlier crash)');
  return removed;
}

/** Where a run's checkpoint at a step lives, relative to the artifacts dir. */
export function checkpointUri(lineageId: string, runId: string, globalStep: number): string {
  return path.join(CHECKPOINTS_DIR, `lineage-${lineageId}`, `run-${runId}`, `step-${String(globalStep).padStart(9, '0')}`);
}
