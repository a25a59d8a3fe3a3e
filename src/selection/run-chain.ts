// The chain of runs behind a model, and what it tells: its loss curve and its data.
// The loss curve that led to a model: the run that produced it, preceded by the run its
// base checkpoint came from up to that checkpoint, and so on back to the lineage's first
// run. Virtual epochs carry across runs (a retrain from epoch 8 continues at 9), so the
// chain reads as one curve. Each point says whether its checkpoint still exists.
import { sql } from 'kysely';
import { CHAMPION, findLineageByName, getAliasedVersion, latestSucceededRun, type Registry } from '../registry/index.ts';

export interface CurvePoint {
  runId: string;
  virtualEpoch: number;
  globalStep: number;
  trainLoss: number;
  valLoss: number | null;
  /** The checkpoint at this point, if retention kept it. */
  checkpointId: string | null;
}

const chainCte = (headRunId: string) => sql`
    WITH RECURSIVE chain (run_id, upto_step) AS (
      SELECT id, NULL::bigint FROM runs WHERE id = ${headRunId}
      UNION ALL
      SELECT base.run_id, base.global_step
      FROM chain JOIN runs r ON r.id = chain.run_id JOIN checkpoints base ON base.id = r.base_checkpoint_id
    )`;

/** Every partition whose rows trained the weights of run `headRunId`'s result: its own and its ancestors'. */
export async function chainPartitionIds(db: Registry, headRunId: string): Promise<string[]> {
  const rows = await sql<{ partition_id: string }>`
    ${chainCte(headRunId)}
    SELECT DISTINCT rp.partition_id FROM chain JOIN run_partitions rp ON rp.run_id = chain.run_id
    WHERE rp.role IN ('train', 'replay') ORDER BY rp.partition_id
  `.execute(db);
  return rows.rows.map((r) => String(r.partition_id));
}

/** The chain of epochs ending with run `headRunId`, in step order. */
export async function chainCurve(db: Registry, headRunId: string): Promise<CurvePoint[]> {
  const rows = await sql<{ run_id: string; virtual_epoch: number; global_step: string; train_loss: number; val_loss: number | null; checkpoint_id: string | null }>`
    ${chainCte(headRunId)}
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

/**
 * The run whose curve retraining continues: the champion's, else the lineage's newest
 * successful run (all candidates rejected so far), else none.
 */
export async function headRun(db: Registry, lineageName: string): Promise<{ lineageId: string; runId: string } | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  if (!lineage) return undefined;
  const champion = await getAliasedVersion(db, lineage.id, CHAMPION);
  if (champion) return { lineageId: lineage.id, runId: champion.run_id };
  const latest = await latestSucceededRun(db, lineage.id);
  return latest ? { lineageId: lineage.id, runId: latest.id } : undefined;
}
