// When to retrain: enough fresh data that no finished run has tried yet, or fresh data
// that has waited too long. Fresh is the one definition in the registry's
// fresh-partitions.ts; counting only untried partitions means a candidate the gate
// rejected does not make the same data trigger again and again (the next retrain, started
// by new data, still trains on it).
import type { ResolvedConfig } from '../core/config.ts';
import { enqueueJob, findLineageByName, freshPartitions, type Job, type Registry } from '../registry/index.ts';

export interface PolicyVerdict {
  due: boolean;
  reason: string;
  /** Fresh partitions no finished run has tried yet, and their rows. */
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

/** Evaluates the policy for a lineage (by name; it may not exist yet: then all data is new) on its source's partitions. */
export async function evaluateRetrainPolicy(db: Registry, { lineage: lineageName, dataDir }: { lineage: string; dataDir: string }, policy: PolicyConfig): Promise<PolicyVerdict> {
  const lineage = await findLineageByName(db, lineageName);
  const untried = (await freshPartitions(db, { id: lineage?.id ?? null, source: dataDir })).filter((p) => !p.tried);
  const newPartitions = untried.length;
  const newExamples = untried.reduce((n, p) => n + (p.rows ?? 0), 0);
  const oldestArrival = untried.reduce<number | null>((min, p) => (min === null || p.arrivedAt.getTime() < min ? p.arrivedAt.getTime() : min), null);
  const oldestWaitingSeconds = oldestArrival === null ? null : Math.max(0, (Date.now() - oldestArrival) / 1000);
  const watermark = untried.reduce<string | null>((max, p) => (max === null || BigInt(p.id) > BigInt(max) ? p.id : max), null);
  const verdict = { newPartitions, newExamples, oldestWaitingSeconds, watermark, lineageId: lineage?.id ?? null };
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
  trigger: 'cron' | 'arrival' | 'drift' | 'manual';
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
