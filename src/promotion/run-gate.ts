// The gate, whole, in the module that owns it: from the predictions on the gate rows to a
// recorded decision. It scores the candidate, the champion and the naive baselines, decides
// (bounds, improvement, the paired bootstrap, the naive rule), considers the naive
// fallback, builds the `promotions` row — in this one place, from GateRunInput — and
// records it (promoting when the decision says so). It predicts nothing itself: the retrain
// job hands it the predictions (the trainer and serving make them), so this module stays
// arithmetic and SQL, without TensorFlow.js.
import type { MetricName } from '../core/eval-metrics.ts';
import type { ModelVersion, Registry } from '../registry/index.ts';
import { recordGateDecision, type GateOutcome } from './decisions.ts';
import { gateDecision, type EvalConfig } from './evaluation-gate.ts';
import { gateScores, type GateScores } from './gate-scores.ts';
import type { NaiveName } from './naive-baselines.ts';
import type { RowBaseline } from './row-baselines.ts';
import { fallbackDecision } from './naive-fallback.ts';
import { sliceRejection, sliceScores, type SliceColumn } from './slice-scores.ts';

/** Everything one gate decision needs, gathered by the retrain job. */
export interface GateRunInput {
  lineageId: string;
  runId: string;
  candidateCheckpointId: string;
  /** The champion the candidate faces (undefined: none yet). */
  champion: ModelVersion | undefined;
  /** eval.metric resolved (`loss` → the training loss's name), and as configured (what the row records). */
  metric: MetricName;
  metricAsConfigured: string;
  task: 'regression' | 'binary';
  /** The gate rows: labels, and each model's predictions on them (null: no champion). */
  y: Float32Array;
  candidatePredictions: Float32Array;
  championPredictions: Float32Array | null;
  /** The constants a person would try first, from the candidate's training window. */
  naiveConstants: ReadonlyArray<{ name: NaiveName; value: number }>;
  /** The per-row baselines on the gate rows (eval.naive last, seasonal:K, column:NAME; empty: constants only). */
  naiveRows: readonly RowBaseline[];
  rules: EvalConfig;
  /** Each eval.slices column's value per gate row (empty: no slices). */
  slices: readonly SliceColumn[];
  seed: number;
  gateRows: { partitionIds: string[]; rows: number; holdout: 'newest' | 'random'; describedAs: string };
  baseSelection: { policy?: string; candidates?: unknown } | null;
  /** The candidate's training partitions (a fallback constant's window). */
  windowPartitionIds: string[];
  dataWatermark: string | null;
  /** Partitions whose rows trained the candidate (its run and its ancestors). */
  trainedPartitionIds: string[];
}

/** Scores, decides and records one gate decision; idempotent per run (recordGateDecision). */
export async function runGate(db: Registry, input: GateRunInput): Promise<{ outcome: GateOutcome; scores: GateScores }> {
  const { metric, rules, gateRows } = input;
  const scores = gateScores({
    metric,
    task: input.task,
    y: input.y,
    candidate: input.candidatePredictions,
    champion: input.championPredictions,
    naiveConstants: input.naiveConstants,
    naiveRows: input.naiveRows,
    rules,
    seed: input.seed,
  });
  const overall = gateDecision({ metric, candidate: scores.candidate, champion: scores.champion, naive: scores.naive, naiveConstant: scores.naiveConstant, interval: scores.interval, evalRows: gateRows.rows, rowsAre: gateRows.describedAs }, rules);
  // Slices: against a champion, the candidate must not be clearly worse for any group of enough rows.
  const slices = input.championPredictions && input.slices.length > 0
    ? sliceScores({ metric, task: input.task, y: input.y, candidate: input.candidatePredictions, champion: input.championPredictions, slices: input.slices, minRows: rules.minSliceRows })
    : null;
  const sliceReason = overall.promote && slices ? sliceRejection(metric, slices, rules.maxSliceRegression) : undefined;
  const decision = sliceReason ? { promote: false, reason: `${sliceReason}: not promoted, though overall ${overall.reason}` } : overall;
  // eval.fallback naive: with the candidate rejected and the champion no better than the
  // best constant, the constant serves (a version of its own) until a model beats it.
  const fallback = fallbackDecision(
    { metric, candidatePromoted: decision.promote, champion: scores.champion, championConstant: input.champion?.constant ?? null, naive: scores.naiveConstant, evalRows: gateRows.rows },
    rules,
  );
  const outcome = await recordGateDecision(db, {
    row: {
      lineage_id: input.lineageId,
      run_id: input.runId,
      candidate_checkpoint_id: input.candidateCheckpointId,
      champion_version_id: input.champion?.id ?? null,
      metric_name: input.metricAsConfigured, // as configured (`loss` stays `loss`): what dashboards and SQL group by
      candidate_metric: scores.candidate,
      champion_metric: scores.champion,
      eval_partition_ids: [...gateRows.partitionIds],
      eval_rows: gateRows.rows,
      base_policy: input.baseSelection?.policy ?? null,
      base_candidates: JSON.stringify(input.baseSelection?.candidates ?? null),
      holdout: gateRows.holdout,
      naive_name: scores.naive?.name ?? null,
      naive_value: scores.naive?.value ?? null,
      naive_metric: scores.naive?.metric ?? null,
      naive_baselines: JSON.stringify(scores.naiveAll),
      slice_scores: slices ? JSON.stringify(slices) : null,
      improvement: scores.interval?.improvement ?? null,
      improvement_low: scores.interval?.low ?? null,
      improvement_high: scores.interval?.high ?? null,
      confidence: scores.interval?.confidence ?? null,
      bootstrap_blocks: scores.interval?.blocks ?? null,
      reason: decision.reason,
    },
    promote: decision.promote,
    fallback: fallback && { constant: fallback.serve, reason: fallback.reason, windowPartitionIds: input.windowPartitionIds },
    dataWatermark: input.dataWatermark,
    trainedPartitionIds: input.trainedPartitionIds,
  });
  return { outcome, scores };
}
