// Training loss every N steps (curves finer than one point per virtual epoch), and the
// per-virtual-epoch curve that plateau detection reads.
import type { Registry } from '../connect.ts';
import type { Insertable } from 'kysely';
import type { EpochLoss, EpochLossesTable } from '../schema.ts';

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

/** Records a completed virtual epoch's losses (upsert: a resumed run repeats the same values). */
export async function recordEpochLoss(db: Registry, row: Insertable<EpochLossesTable>): Promise<void> {
  await db
    .insertInto('epoch_losses')
    .values(row)
    .onConflict((oc) => oc.columns(['run_id', 'virtual_epoch']).doUpdateSet({ global_step: row.global_step, train_loss: row.train_loss, val_loss: row.val_loss ?? null }))
    .execute();
}

export async function listEpochLosses(db: Registry, runId: string): Promise<EpochLoss[]> {
  return db.selectFrom('epoch_losses').selectAll().where('run_id', '=', runId).orderBy('virtual_epoch').execute();
}
