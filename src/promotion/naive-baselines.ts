// The naive baselines: the constant a person would try before any model. Every gate
// decision scores them on the gate rows beside the candidate and the champion, so a model
// that does not beat a constant is seen (and, with eval.mustBeatNaive, never promoted).
//
// Regression: the median and the mean of the label over the candidate's training window
// (the median minimises MAE, the mean MSE). Binary: the base rate (AUC 0.5 by definition).
// The baseline a decision is held to is the better of them on the gate rows: the stricter
// test for the model.
import { evaluateAll, type MetricName } from '../core/eval-metrics.ts';
import type { EvalConfig } from './evaluation-gate.ts';
import { higherIsBetter } from './evaluation-gate.ts';

export type NaiveName = 'median' | 'mean' | 'base-rate';

export interface NaiveBaseline {
  name: NaiveName;
  /** The constant predicted for every row. */
  value: number;
  /** Its `eval.metric` on the gate rows. */
  metric: number;
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

/** Scores each constant on the gate labels; returns them all and the best (the baseline a decision is held to). */
export function scoreNaiveBaselines(
  metric: MetricName,
  task: 'regression' | 'binary',
  constants: ReadonlyArray<{ name: NaiveName; value: number }>,
  y: Float32Array,
): { all: NaiveBaseline[]; best: NaiveBaseline | null } {
  if (y.length === 0 || constants.length === 0) return { all: [], best: null };
  const all = constants.map(({ name, value }) => {
    const metrics = evaluateAll(task, y, new Float32Array(y.length).fill(value));
    return { name, value, metric: metric === 'auc' ? 0.5 : metrics[metric]! };
  });
  const better = (a: NaiveBaseline, b: NaiveBaseline): NaiveBaseline => ((higherIsBetter(metric) ? b.metric > a.metric : b.metric < a.metric) ? b : a);
  return { all, best: all.reduce(better) };
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
