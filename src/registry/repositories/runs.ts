// Runs: one training run (initial, retrain or manual) of a lineage.
import type { Registry } from '../connect.ts';
import type { NewRun, Run, RunStatus } from '../schema.ts';

export async function createRun(db: Registry, run: NewRun): Promise<Run> {
  return db.insertInto('runs').values(run).returningAll().executeTakeFirstOrThrow();
}

export async function getRun(db: Registry, id: string): Promise<Run> {
  const row = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new Error(`run ${id} does not exist`);
  return row;
}

/** Ends a running run. Throws when the run is not running (it was finished elsewhere). */
export async function finishRun(db: Registry, id: string, status: Exclude<RunStatus, 'running'>, error?: string): Promise<Run> {
  const row = await db
    .updateTable('runs')
    .set({ status, finished_at: new Date(), error: error ?? null })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new Error(`run ${id} is not running; cannot mark it ${status}`);
  return row;
}

export async function listRuns(db: Registry, filter: { lineageId?: string; limit?: number } = {}): Promise<Run[]> {
  let query = db.selectFrom('runs').selectAll().orderBy('id', 'desc');
  if (filter.lineageId) query = query.where('lineage_id', '=', filter.lineageId);
  return query.limit(filter.limit ?? 100).execute();
}
