// The daemon's metrics hang off the modules' events and observers: the trainer, the
// watcher and the retrain job never import prom-client (their arrows point inwards).
import type { Promotion } from '../registry/index.ts';
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
  if (outcome.kind === 'vanished') return;
  metrics.partitionsTotal.inc({ status: outcome.kind });
  if (outcome.kind === 'registered' && outcome.superseded) metrics.partitionsTotal.inc({ status: 'superseded' });
  if (outcome.kind === 'registered' || outcome.kind === 'rejected') {
    metrics.partitionDetectSeconds.observe(Math.max(0, (Date.now() - arrivedAt.getTime()) / 1000));
  }
}

/** A gate decision: both scores, and the decision counted once (not again when a retried job re-reads it). */
export function recordDecision(metrics: Metrics, decision: { promotion: Promotion; created: boolean; candidateMetric: number; championMetric: number | null }): void {
  metrics.evalMetric.set({ model: 'candidate' }, decision.candidateMetric);
  if (decision.championMetric !== null) metrics.evalMetric.set({ model: 'champion' }, decision.championMetric);
  if (decision.created) metrics.promotionsTotal.inc({ decision: decision.promotion.decision });
}
