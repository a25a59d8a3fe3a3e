// Training loss every N steps, for curves finer than one point per virtual epoch.
import type { Registry } from '../connect.ts';

export interface LossPoint {
  step: number;
  loss: number;
}

/** Inserts a batch of points; a point already recorded (a resumed run replaying a step) is kept as it was. */
export async function insertLossPoints(db: Registry, runId: string, points: readonly LossPoint[]): Promise<void> {
  if (points.length === 0) return;
  await db
    .insertInto('loss_points')
    .values(points.map((p) => ({ run_id: runId, step: p.step, loss: p.loss })))
    .onConflict((oc) => oc.columns(['run_id', 'step']).doNothing())
    .execute();
}

export async function listLossPoints(db: Registry, runId: string): Promise<LossPoint[]> {
  const rows = await db.selectFrom('loss_points').select(['step', 'loss']).where('run_id', '=', runId).orderBy('step').execute();
  return rows.map((r) => ({ step: Number(r.step), loss: r.loss }));
}
