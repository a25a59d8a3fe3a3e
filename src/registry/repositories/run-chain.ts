// The chain of runs behind a model, and its head. The loss curve that led to a model is
// the run that produced it, preceded by the run its base checkpoint came from up to that
// checkpoint, and so on back to the lineage's first run. Virtual epochs carry across runs
// (a retrain from epoch 8 continues at 9), so the chain reads as one curve.
//
// The head and the chain are SQL fragments here, used by these statements and by
// freshPartitions, so "what the serving model has learned" has one definition.
import { sql, type RawBuilder } from 'kysely';
import type { Registry } from '../connect.ts';

/**
 * The lineage's head run, the one retraining continues: the champion's run, else the
 * newest succeeded run (every candidate so far rejected), else NULL.
 */
export const headRunSql = (lineageId: string | null): RawBuilder<unknown> => sql`coalesce(
    (SELECT mv.run_id FROM aliases a JOIN model_versions mv ON mv.id = a.model_version_id
     WHERE a.lineage_id = ${lineageId} AND a.name = 'champion'),
    (SELECT r.id FROM runs r WHERE r.lineage_id = ${lineageId} AND r.status = 'succeeded' ORDER BY r.id DESC LIMIT 1))`;

/**
 * `chain (run_id, upto_step)`: the run `head` (a bigint expression, NULL for none) and its
 * ancestors, each with the step of the checkpoint its descendant started from (NULL for
 * the head itself). UNION, not UNION ALL, so even a corrupt cycle terminates.
 */
export const chainCteSql = (head: RawBuilder<unknown>): RawBuilder<unknown> => sql`
    chain (run_id, upto_step) AS (
      SELECT h.run_id, NULL::bigint FROM (SELECT ${head} AS run_id) h WHERE h.run_id IS NOT NULL
      UNION
      SELECT base.run_id, base.global_step
      FROM chain JOIN runs r ON r.id = chain.run_id JOIN checkpoints base ON base.id = r.base_checkpoint_id
    )`;

export interface CurvePoint {
  runId: string;
  virtualEpoch: number;
  globalStep: number;
  trainLoss: number;
  valLoss: number | null;
  /** The checkpoint at this point, if retention kept it. */
  checkpointId: string | null;
}

/** The lineage's head run id (see headRunSql); undefined when it has no finished run. */
export async function headRunId(db: Registry, lineageId: string): Promise<string | undefined> {
  const row = await sql<{ run_id: string | null }>`SELECT ${headRunSql(lineageId)} AS run_id`.execute(db);
  const id = row.rows[0]?.run_id;
  return id === null || id === undefined ? undefined : String(id);
}

/** Every partition whose rows trained the weights of run `headRunId`'s result: its own and its ancestors'. */
export async function chainPartitionIds(db: Registry, headRunId: string): Promise<string[]> {
  const rows = await sql<{ partition_id: string }>`
    WITH RECURSIVE ${chainCteSql(sql`${headRunId}::bigint`)}
    SELECT DISTINCT rp.partition_id FROM chain JOIN run_partitions rp ON rp.run_id = chain.run_id
    WHERE rp.role IN ('train', 'replay') ORDER BY rp.partition_id
  `.execute(db);
  return rows.rows.map((r) => String(r.partition_id));
}

/** The chain of epochs ending with run `headRunId`, in step order. */
export async function chainCurve(db: Registry, headRunId: string): Promise<CurvePoint[]> {
  const rows = await sql<{ run_id: string; virtual_epoch: number; global_step: string; train_loss: number; val_loss: number | null; checkpoint_id: string | null }>`
    WITH RECURSIVE ${chainCteSql(sql`${headRunId}::bigint`)}
    SELECT e.run_id, e.virtual_epoch, e.global_step, e.train_loss, e.val_loss, c.id AS checkpoint_id
    FROM chain
    JOIN epoch_losses e ON e.run_id = chain.run_id AND (chain.upto_step IS NULL OR e.global_step <= chain.upto_step)
    LEFT JOIN checkpoints c ON c.run_id = e.run_id AND c.global_step = e.global_step
    ORDER BY e.global_step
  `.execute(db);
  return rows.rows.map((r) => ({
    runId: String(r.run_id),
    virtualEpoch: r.virtual_epoch,
    globalStep: Number(r.global_step),
    trainLoss: r.train_loss,
    valLoss: r.val_loss,
    checkpointId: r.checkpoint_id === null ? null : String(r.checkpoint_id),
  }));
}

/** The step-level training loss (loss_points) of the chain ending with run `headRunId`, in step order. */
export async function chainLossPoints(db: Registry, headRunId: string): Promise<Array<{ runId: string; step: number; loss: number }>> {
  const rows = await sql<{ run_id: string; step: string; loss: number }>`
    WITH RECURSIVE ${chainCteSql(sql`${headRunId}::bigint`)}
    SELECT lp.run_id, lp.step, lp.loss
    FROM chain
    JOIN loss_points lp ON lp.run_id = chain.run_id AND (chain.upto_step IS NULL OR lp.step <= chain.upto_step)
    ORDER BY lp.step
  `.execute(db);
  return rows.rows.map((r) => ({ runId: String(r.run_id), step: Number(r.step), loss: r.loss }));
}

export interface ChainCheckpoint {
  checkpointId: string;
  runId: string;
  globalStep: number;
  virtualEpoch: number;
  valLoss: number | null;
}

/**
 * Every kept checkpoint of the chain ending with run `headRunId` (epoch ends, early and
 * extra ones), in step order: where the knee rule looks for the newest one before the knee.
 */
export async function chainCheckpoints(db: Registry, headRunId: string): Promise<ChainCheckpoint[]> {
  const rows = await sql<{ id: string; run_id: string; global_step: string; virtual_epoch: number; val_loss: number | null }>`
    WITH RECURSIVE ${chainCteSql(sql`${headRunId}::bigint`)}
    SELECT c.id, c.run_id, c.global_step, c.virtual_epoch, c.val_loss
    FROM chain
    JOIN checkpoints c ON c.run_id = chain.run_id AND (chain.upto_step IS NULL OR c.global_step <= chain.upto_step)
    ORDER BY c.global_step
  `.execute(db);
  return rows.rows.map((r) => ({ checkpointId: String(r.id), runId: String(r.run_id), globalStep: Number(r.global_step), virtualEpoch: r.virtual_epoch, valLoss: r.val_loss }));
}
