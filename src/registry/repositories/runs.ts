// Runs: one training run (initial, retrain or manual) of a lineage, and the partitions it
// read in each role (train, replay, eval, gate).
import { NotFoundError } from '../../core/errors.ts';
import type { Registry } from '../connect.ts';
import type { NewRun, Run, RunStatus } from '../schema.ts';

export type PartitionRole = 'train' | 'replay' | 'eval' | 'gate';

/**
 * Creates a run and its partition roles in one transaction: a run resumed after a crash
 * must find exactly the partitions it started with.
 */
export async function createRunWithPartitions(db: Registry, run: NewRun, roles: ReadonlyArray<{ partitionId: string; role: PartitionRole }>): Promise<Run> {
  return db.transaction().execute(async (trx) => {
    const created = await trx.insertInto('runs').values(run).returningAll().executeTakeFirstOrThrow();
    if (roles.length) await trx.insertInto('run_partitions').values(roles.map((r) => ({ run_id: created.id, partition_id: r.partitionId, role: r.role }))).execute();
    return created;
  });
}

export async function getRun(db: Registry, id: string): Promise<Run> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`run ${id} does not exist`);
  return row;
}

/** The ids of the partitions a run read, by role (a fresh partition is both `train` and `eval`). */
export async function runPartitionRoles(db: Registry, runId: string): Promise<Record<PartitionRole, Set<string>>> {
  const rows = await db.selectFrom('run_partitions').select(['partition_id', 'role']).where('run_id', '=', runId).execute();
  const roles: Record<PartitionRole, Set<string>> = { train: new Set(), replay: new Set(), eval: new Set(), gate: new Set() };
  for (const row of rows) roles[row.role].add(row.partition_id);
  return roles;
}

/** True when the lineage has any run (a new run then is not its first). */
export async function lineageHasRuns(db: Registry, lineageId: string): Promise<boolean> {
  return (await db.selectFrom('runs').select('id').where('lineage_id', '=', lineageId).limit(1).executeTakeFirst()) !== undefined;
}

/** The lineage's newest run still `running`, if any (what `freshet train` resumes by default). */
export async function findUnfinishedRun(db: Registry, lineageId: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('lineage_id', '=', lineageId).where('status', '=', 'running').orderBy('id', 'desc').executeTakeFirst();
}

/** The newest run a job started (an earlier attempt's, when the job is retried). */
export async function latestRunOfJob(db: Registry, jobId: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').executeTakeFirst();
}


/**
 * Hands the lineage's newest unfinished run that no live job owns (its job failed for good
 * or was cancelled, or `freshet train` was killed) to `jobId`, which resumes it rather than
 * start over: no finished virtual epoch is lost. One statement, so two jobs cannot both
 * adopt it (the second finds it owned by a live job).
 */
export async function adoptOrphanRun(db: Registry, lineageId: string, jobId: string): Promise<Run | undefined> {
  return db
    .updateTable('runs')
    .set({ job_id: jobId })
    .where('id', '=', (eb) =>
      eb
        .selectFrom('runs as r')
        .leftJoin('jobs', 'jobs.id', 'r.job_id')
        .select('r.id')
        .where('r.lineage_id', '=', lineageId)
        .where('r.status', '=', 'running')
        .where((w) => w.or([w('r.job_id', 'is', null), w('jobs.state', 'not in', ['queued', 'running'])]))
        .orderBy('r.id', 'desc')
        .limit(1),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * Ends a running run, with its result checkpoint and invalid-row count when it succeeded.
 * Throws when the run is not running (it was finished elsewhere).
 */
export async function finishRun(db: Registry, id: string, status: Exclude<RunStatus, 'running'>, outcome: { error?: string; resultCheckpointId?: string | null; invalidRows?: number; stillFalling?: boolean; valLossGain?: number | null } = {}): Promise<Run> {
  const row = await db
    .updateTable('runs')
    .set({
      status,
      finished_at: new Date(),
      error: outcome.error ?? null,
      ...(outcome.resultCheckpointId !== undefined ? { result_checkpoint_id: outcome.resultCheckpointId } : {}),
      ...(outcome.invalidRows !== undefined ? { invalid_rows: outcome.invalidRows } : {}),
      ...(outcome.stillFalling !== undefined ? { still_falling: outcome.stillFalling, val_loss_gain: outcome.valLossGain ?? null } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new Error(`run ${id} is not running; cannot mark it ${status}`);
  return row;
}

/**
 * Records what a run added to its categorical vocabularies. Idempotent: a run resumed
 * before its first checkpoint computes the same growth again and writes the same value.
 */
/** A run from scratch that goes on past its nominal end while it still improves (trainer/run/run-extension.ts) records its new target first, so a resume continues to it. Only ever raises it. */
export async function raiseRunTarget(db: Registry, runId: string, targetVirtualEpochs: number): Promise<void> {
  await db.updateTable('runs').set({ target_virtual_epochs: targetVirtualEpochs }).where('id', '=', runId).where((eb) => eb.or([eb('target_virtual_epochs', 'is', null), eb('target_virtual_epochs', '<', targetVirtualEpochs)])).execute();
}

export async function recordVocabularyGrowth(db: Registry, runId: string, growth: ReadonlyArray<{ column: string; from: number; to: number; added: string[] }>): Promise<void> {
  await db
    .updateTable('runs')
    .set({ vocabulary_growth: growth.length > 0 ? JSON.stringify(growth) : null })
    .where('id', '=', runId)
    .execute();
}

/** The lineage's newest runs with their result checkpoint's validation loss. */
export async function listRunsWithResult(db: Registry, lineageId: string, limit: number): Promise<Array<Run & { result_val_loss: number | null }>> {
  return db
    .selectFrom('runs')
    .leftJoin('checkpoints as result', 'result.id', 'runs.result_checkpoint_id')
    .selectAll('runs')
    .select('result.val_loss as result_val_loss')
    .where('runs.lineage_id', '=', lineageId)
    .orderBy('runs.id', 'desc')
    .limit(limit)
    .execute();
}

export async function listRuns(db: Registry, filter: { lineageId?: string; limit?: number } = {}): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll().orderBy('id', 'desc');
  if (filter.lineageId) query = query.where('lineage_id', '=', filter.lineageId);
  return query.limit(filter.limit ?? 100).execute();
}

/** Invalid rows the lineage's latest succeeded run skipped; null when it has none (freshet_run_invalid_rows). */
export async function lastFinishedRunInvalidRows(db: Registry, lineageName: string): Promise<number | null> {
  const row = await db
    .selectFrom('runs')
    .innerJoin('lineages', 'lineages.id', 'runs.lineage_id')
    .select('runs.invalid_rows')
    .where('lineages.name', '=', lineageName)
    .where('runs.status', '=', 'succeeded')
    .orderBy('runs.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.invalid_rows) : null;
}
