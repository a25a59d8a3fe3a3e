// The naive baselines: what a person would try before any model. Every gate decision
// scores them on the gate rows beside the candidate and the champion, so a model that does
// not beat them is seen (and, with eval.mustBeatNaive, never promoted).
//
// Constants (eval.naive median, mean): the median and the mean of the label over the
// candidate's training window (the median minimises MAE, the mean MSE); binary: the base
// rate (AUC 0.5 by definition). Per-row baselines (last, seasonal:K, column:NAME) are
// predicted in row-baselines.ts. The baseline a decision is held to is the strongest of
// them on the gate rows: the stricter test for the model. Only a constant can serve
// (eval.fallback): the others need labels or a column that a request does not carry.
import { evaluateAll, type MetricName } from '../core/eval-metrics.ts';
import type { EvalConfig } from './evaluation-gate.ts';
import { higherIsBetter } from './evaluation-gate.ts';
import type { RowBaseline } from './row-baselines.ts';

export type NaiveName = 'median' | 'mean' | 'base-rate';

export interface NaiveBaseline {
  /** median, mean, base-rate, or a per-row spec as written (last, seasonal:7, column:forecast). */
  name: string;
  /** The constant predicted for every row; null for a per-row baseline. */
  value: number | null;
  /** Its `eval.metric` on the gate rows. */
  metric: number;
  /** Gate rows a per-row baseline had a value of its own for; the rest got `fill` (the window's median). Absent for constants. */
  covered?: number;
  fill?: number;
}

/** A constant baseline (it can serve: eval.fallback). */
export function isConstant(baseline: NaiveBaseline): baseline is NaiveBaseline & { value: number } {
  return baseline.value !== null;
}

/** How a reason names a baseline: "the median 12.5", "persistence (last)". */
export function describeBaseline(baseline: NaiveBaseline): string {
  if (isConstant(baseline)) return `the ${baseline.name} ${baseline.value.toPrecision(5)}`;
  if (baseline.name === 'last') return 'persistence (last)';
  if (baseline.name.startsWith('seasonal:')) return `the value ${baseline.name.slice('seasonal:'.length)} partitions before (${baseline.name})`;
  return `the data's own baseline (${baseline.name})`;
}

/** The median of a copy of `values` (NaN when empty). */
export function median(values: Float64Array): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length ? sum / values.length : Number.NaN;
}

/** The naive constants of a training window's labels. */
export function naiveConstants(task: 'regression' | 'binary', labels: Float64Array): Array<{ name: NaiveName; value: number }> {
  if (labels.length === 0) return [];
  if (task === 'binary') return [{ name: 'base-rate', value: mean(labels) }];
  return [
    { name: 'median', value: median(labels) },
    { name: 'mean', value: mean(labels) },
  ];
}

/** The name of the metric that `eval.metric` resolves to for a task and training loss (`loss` → the loss). */
export function resolvedMetric(metric: EvalConfig['metric'], loss: 'mse' | 'mae' | 'logloss'): MetricName {
  return metric === 'loss' ? loss : metric;
}

/**
 * Scores each baseline on the gate labels; returns them all, the strongest (the baseline a
 * decision is held to) and the best constant (the one eval.fallback can serve).
 */
export function scoreNaiveBaselines(
  metric: MetricName,
  task: 'regression' | 'binary',
  constants: ReadonlyArray<{ name: NaiveName; value: number }>,
  y: Float32Array,
  perRow: readonly RowBaseline[] = [],
): { all: NaiveBaseline[]; best: NaiveBaseline | null; bestConstant: NaiveBaseline | null } {
  if (y.length === 0 || (constants.length === 0 && perRow.length === 0)) return { all: [], best: null, bestConstant: null };
  const scoreOf = (p: Float32Array): number => evaluateAll(task, y, p)[metric] ?? Number.NaN;
  const fixed = constants.map(({ name, value }): NaiveBaseline => ({ name, value, metric: metric === 'auc' ? 0.5 : scoreOf(new Float32Array(y.length).fill(value)) }));
  const rowwise = perRow.map(({ name, predictions, covered, fill }): NaiveBaseline => ({ name, value: null, metric: scoreOf(predictions), covered, fill }));
  const better = (a: NaiveBaseline, b: NaiveBaseline): NaiveBaseline => (!Number.isFinite(a.metric) || (higherIsBetter(metric) ? b.metric > a.metric : b.metric < a.metric) ? b : a);
  const all = [...fixed, ...rowwise];
  return { all, best: all.reduce(better), bestConstant: fixed.length ? fixed.reduce(better) : null };
}

/**
 * Skill over the naive baseline: 1 − model ÷ naive for losses (0: no better than the
 * constant; 0.05: 5% lower loss); for AUC, (auc − 0.5) ÷ 0.5. Null when undefined.
 */
export function skill(metric: MetricName, model: number | null, naive: number | null): number | null {
  if (model === null || naive === null || !Number.isFinite(model) || !Number.isFinite(naive)) return null;
  if (metric === 'auc') return (model - 0.5) / 0.5;
  return naive === 0 ? null : 1 - model / naive;
}
