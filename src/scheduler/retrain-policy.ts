// When to retrain: enough new data, or new data that has waited too long. "New" means
// registered and not yet trained on by a finished run of the lineage, so a candidate that
// the gate rejected does not make the same data trigger again and again.
import { sql } from 'kysely';
import type { ResolvedConfig } from '../config.ts';
import { enqueueJob, findLineageByName, type Job, type Registry } from '../registry/index.ts';

export interface PolicyVerdict {
  due: boolean;
  reason: string;
  newPartitions: number;
  newExamples: number;
  /** Seconds the oldest new partition has waited since it arrived; null without new data. */
  oldestWaitingSeconds: number | null;
  /** Highest new partition id: the data watermark the retrain would reach. */
  watermark: string | null;
  /** The lineage's id, when it exists yet. */
  lineageId: string | null;
}

type PolicyConfig = Pick<ResolvedConfig['retrain'], 'minNewPartitions' | 'minNewExamples' | 'maxStalenessSeconds'>;

/** Evaluates the policy for a lineage (by name; it may not exist yet: then all data is new). */
export async function evaluateRetrainPolicy(db: Registry, lineageName: string, policy: PolicyConfig): Promise<PolicyVerdict> {
  const lineage = await findLineageByName(db, lineageName);
  const row = await sql<{ partitions: string; examples: string | null; oldest_arrival: Date | null; watermark: string | null; now: Date }>`
    SELECT count(*) AS partitions, sum(p.row_count) AS examples, min(p.arrived_at) AS oldest_arrival,
           max(p.id) AS watermark, now() AS now
    FROM partitions p
    WHERE p.status = 'registered'
      AND NOT EXISTS (
        SELECT 1 FROM run_partitions rp JOIN runs r ON r.id = rp.run_id
        WHERE rp.partition_id = p.id AND rp.role = 'train' AND r.status = 'succeeded'
          AND r.lineage_id = ${lineage?.id ?? null})
  `.execute(db);
  const stats = row.rows[0]!;
  const newPartitions = Number(stats.partitions);
  const newExamples = Number(stats.examples ?? 0);
  const oldestWaitingSeconds = stats.oldest_arrival ? Math.max(0, (stats.now.getTime() - stats.oldest_arrival.getTime()) / 1000) : null;
  const verdict = { newPartitions, newExamples, oldestWaitingSeconds, watermark: stats.watermark, lineageId: lineage?.id ?? null };
  if (newPartitions === 0) return { ...verdict, due: false, reason: 'no new partitions' };
  if (newPartitions >= policy.minNewPartitions && newExamples >= policy.minNewExamples) {
    return { ...verdict, due: true, reason: `${newPartitions} new partitions with ${newExamples} rows (thresholds ${policy.minNewPartitions} and ${policy.minNewExamples})` };
  }
  if (policy.maxStalenessSeconds > 0 && oldestWaitingSeconds !== null && oldestWaitingSeconds >= policy.maxStalenessSeconds) {
    return { ...verdict, due: true, reason: `the oldest new partition has waited ${Math.round(oldestWaitingSeconds)} s (maxStalenessSeconds ${policy.maxStalenessSeconds})` };
  }
  return { ...verdict, due: false, reason: `${newPartitions} new partitions with ${newExamples} rows: below the thresholds (${policy.minNewPartitions}, ${policy.minNewExamples})` };
}

export interface RetrainRequest {
  lineage: string;
  trigger: 'cron' | 'arrival' | 'manual';
  maxAttempts: number;
  /** The cron slot that asked, for cron triggers. */
  slot?: Date;
  reason: string;
  watermark?: string | null;
  /** The lineage's id when the caller knows it (saves a lookup); else looked up by name. */
  lineageId?: string | null;
}

/**
 * Enqueues the lineage's retrain. Idempotent: while one is queued or running, that one is
 * returned (bursts of arrivals coalesce into it; a job that runs trains on everything
 * registered when it starts, and the policy is checked again when it finishes).
 */
export async function enqueueRetrain(db: Registry, request: RetrainRequest): Promise<{ job: Job; created: boolean }> {
  const lineageId = request.lineageId !== undefined ? request.lineageId : ((await findLineageByName(db, request.lineage))?.id ?? null);
  return enqueueJob(db, {
    kind: 'retrain',
    lineage_id: lineageId,
    payload: { lineage: request.lineage, reason: request.reason, watermark: request.watermark ?? null, slot: request.slot?.toISOString() ?? null },
    singleton_key: `retrain:${request.lineage}`,
    concurrency_key: `lineage:${request.lineage}`,
    trigger: request.trigger,
    max_attempts: request.maxAttempts,
  });
}
