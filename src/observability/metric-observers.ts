// The daemon's metrics hang off the modules' events and observers: the trainer, the
// watcher and the retrain job never import prom-client (their arrows point inwards).
import type { Promotion } from '../registry/index.ts';
import { servingSkill } from '../promotion/index.ts';
import type { TrainObserver } from '../trainer/index.ts';
import type { RegistrationOutcome } from '../watcher/index.ts';
import type { Metrics } from './metrics.ts';

/** Training progress as Prometheus sees it: steps, throughput, losses, checkpoints. */
export function trainingMetrics(metrics: Metrics): TrainObserver {
  return {
    onLoggedLoss: ({ loss }) => metrics.trainLoss.set(loss),
    onThroughput: ({ steps, examples, seconds }) => {
      metrics.trainStepsTotal.inc(steps);
      if (seconds > 0) metrics.trainExamplesPerSecond.set(examples / seconds);
    },
    onCheckpoint: ({ seconds, bytes, virtualEpoch, valLoss }) => {
      metrics.checkpointWriteSeconds.observe(seconds);
      metrics.checkpointBytes.set(bytes);
      metrics.virtualEpoch.set(virtualEpoch);
      if (valLoss !== null && Number.isFinite(valLoss)) metrics.valLoss.set(valLoss);
    },
  };
}

/** One partition's registration: counted by outcome, and its detection latency (marker → committed). */
export function countRegistration(metrics: Metrics, outcome: RegistrationOutcome, arrivedAt: Date): void {
  // A re-check of content already recorded (a touched marker, a rescan) is not a partition seen.
  if (outcome.kind === 'vanished' || outcome.kind === 'unchanged') return;
  metrics.partitionsTotal.inc({ status: outcome.kind });
  if (outcome.superseded.length > 0) metrics.partitionsTotal.inc({ status: 'superseded' }, outcome.superseded.length);
  if (outcome.kind === 'registered' && outcome.copyOf) metrics.partitionsTotal.inc({ status: 'duplicate' });
  if (outcome.kind === 'registered') metrics.partitionInvalidRowsTotal.inc(Number(outcome.partition.invalid_rows ?? 0));
  metrics.partitionDetectSeconds.observe(Math.max(0, (Date.now() - arrivedAt.getTime()) / 1000));
}

/**
 * A gate decision: the scores on its gate rows (candidate, champion, naive baseline), whether
 * the model now serving beats the naive baseline there, and the decision counted once (not
 * again when a retried job re-reads it).
 */
export function recordDecision(metrics: Metrics, decision: { promotion: Promotion; created: boolean }): void {
  const p = decision.promotion;
  if (p.candidate_metric !== null) metrics.evalMetric.set({ model: 'candidate' }, p.candidate_metric);
  if (p.champion_metric !== null) metrics.evalMetric.set({ model: 'champion' }, p.champion_metric);
  if (p.naive_metric !== null) metrics.evalMetric.set({ model: 'naive' }, p.naive_metric);
  const check = servingSkill(p);
  if (check) {
    metrics.championBeatsNaive.set(check.beatsNaive ? 1 : 0);
    if (check.skill !== null) metrics.championSkill.set(check.skill);
  }
  if (decision.created) metrics.promotionsTotal.inc({ decision: p.decision });
}

/** One answered POST /v1/predict: requests by status and version, rows, latency, values the model never saw. */
export function recordPrediction(metrics: Metrics, outcome: { status: number; version: number | null; rows: number; seconds: number; unseen: Record<string, number> }): void {
  const version = outcome.version === null ? 'none' : String(outcome.version);
  metrics.predictRequestsTotal.inc({ status: String(outcome.status), version });
  metrics.predictSeconds.observe({ version }, outcome.seconds);
  if (outcome.rows > 0) metrics.predictRowsTotal.inc({ version }, outcome.rows);
  for (const [column, count] of Object.entries(outcome.unseen)) metrics.predictUnseenValuesTotal.inc({ column, version }, count);
}
