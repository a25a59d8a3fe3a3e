// The daemon's metrics hang off the modules' events and observers: the trainer, the
// watcher and the retrain job never import prom-client (their arrows point inwards).
import type { Promotion } from '../registry/index.ts';
import { servingSkill } from '../promotion/index.ts';
import type { TrainObserver } from '../trainer/index.ts';
import type { RegistrationOutcome } from '../watcher/index.ts';
import type { Metrics } from './metrics.ts';

/** A lineage's training progress as Prometheus sees it: steps, throughput, losses, checkpoints. */
export function trainingMetrics(metrics: Metrics, lineage: string): TrainObserver {
  const labels = { lineage };
  return {
    onLoggedLoss: ({ loss }) => metrics.trainLoss.set(labels, loss),
    onThroughput: ({ steps, examples, seconds }) => {
      metrics.trainStepsTotal.inc(labels, steps);
      if (seconds > 0) metrics.trainExamplesPerSecond.set(labels, examples / seconds);
    },
    onCheckpoint: ({ seconds, bytes, virtualEpoch, valLoss }) => {
      metrics.checkpointWriteSeconds.observe(labels, seconds);
      metrics.checkpointBytes.set(labels, bytes);
      metrics.virtualEpoch.set(labels, virtualEpoch);
      if (valLoss !== null && Number.isFinite(valLoss)) metrics.valLoss.set(labels, valLoss);
    },
  };
}

/**
 * One partition's registration: counted by outcome, and its detection latency (marker →
 * committed), for each lineage that reads its source (lineages on one folder share it).
 */
export function countRegistration(metrics: Metrics, lineages: readonly string[], outcome: RegistrationOutcome, arrivedAt: Date): void {
  // A re-check of content already recorded (a touched marker, a rescan) is not a partition seen.
  if (outcome.kind === 'vanished' || outcome.kind === 'unchanged') return;
  for (const lineage of lineages) {
    metrics.partitionsTotal.inc({ lineage, status: outcome.kind });
    if (outcome.superseded.length > 0) metrics.partitionsTotal.inc({ lineage, status: 'superseded' }, outcome.superseded.length);
    if (outcome.kind === 'registered' && outcome.copyOf) metrics.partitionsTotal.inc({ lineage, status: 'duplicate' });
    if (outcome.kind === 'registered') metrics.partitionInvalidRowsTotal.inc({ lineage }, Number(outcome.partition.invalid_rows ?? 0));
    metrics.partitionDetectSeconds.observe({ lineage }, Math.max(0, (Date.now() - arrivedAt.getTime()) / 1000));
  }
}

/**
 * A gate decision: the scores on its gate rows (candidate, champion, naive baseline), whether
 * the model now serving beats the naive baseline there, and the decision counted once (not
 * again when a retried job re-reads it).
 */
export function recordDecision(metrics: Metrics, lineage: string, decision: { promotion: Promotion; created: boolean }): void {
  const p = decision.promotion;
  if (p.candidate_metric !== null) metrics.evalMetric.set({ lineage, model: 'candidate' }, p.candidate_metric);
  if (p.champion_metric !== null) metrics.evalMetric.set({ lineage, model: 'champion' }, p.champion_metric);
  if (p.naive_metric !== null) metrics.evalMetric.set({ lineage, model: 'naive' }, p.naive_metric);
  const check = servingSkill(p);
  if (check) {
    metrics.championBeatsNaive.set({ lineage }, check.beatsNaive ? 1 : 0);
    if (check.skill !== null) metrics.championSkill.set({ lineage }, check.skill);
  }
  if (decision.created) metrics.promotionsTotal.inc({ lineage, decision: p.decision });
}

/**
 * One answered prediction request: requests by lineage, status and version, rows, latency,
 * values the model never saw. `lineage` null: the request named no lineage served.
 */
export function recordPrediction(metrics: Metrics, outcome: { lineage: string | null; status: number; version: number | null; rows: number; seconds: number; unseen: Record<string, number> }): void {
  const version = outcome.version === null ? 'none' : String(outcome.version);
  const lineage = outcome.lineage ?? 'none';
  metrics.predictRequestsTotal.inc({ lineage, status: String(outcome.status), version });
  metrics.predictSeconds.observe({ lineage, version }, outcome.seconds);
  if (outcome.rows > 0) metrics.predictRowsTotal.inc({ lineage, version }, outcome.rows);
  for (const [column, count] of Object.entries(outcome.unseen)) metrics.predictUnseenValuesTotal.inc({ lineage, column, version }, count);
}
