// Slices (eval.slices, as TFX's Evaluator does): the gate also scores candidate and champion
// on each value of a categorical column that holds enough gate rows, and a candidate that
// is better overall but clearly worse for one group — one airport, one region — is not
// promoted, with the group named. Pure: the retrain job hands it each row's slice value.
import { evaluateAll, type MetricName } from '../core/eval-metrics.ts';
import { higherIsBetter } from './evaluation-gate.ts';
import type { SliceScoreRow } from '../registry/index.ts';

/** One column's slice value per gate row (an index into `names`). */
export interface SliceColumn {
  column: string;
  rowValues: Int32Array;
  names: readonly string[];
}

/** One slice value's scores, as promotions.slice_scores keeps them: `regression` is how much worse the candidate is, relative to the champion (0.05: 5% worse; negative: better). */
export type SliceScore = SliceScoreRow;

function regressionOf(metric: MetricName, candidate: number, champion: number): number {
  if (champion === 0) return candidate === 0 ? 0 : higherIsBetter(metric) ? -Infinity : Infinity;
  return higherIsBetter(metric) ? (champion - candidate) / Math.abs(champion) : (candidate - champion) / Math.abs(champion);
}

/** Candidate and champion on every slice value with at least `minRows` gate rows, worst regression first. */
export function sliceScores(input: { metric: MetricName; task: 'regression' | 'binary'; y: Float32Array; candidate: Float32Array; champion: Float32Array; slices: readonly SliceColumn[]; minRows: number }): SliceScore[] {
  const scores: SliceScore[] = [];
  for (const slice of input.slices) {
    const byValue = new Map<number, number[]>();
    slice.rowValues.forEach((value, row) => (byValue.get(value) ?? byValue.set(value, []).get(value)!).push(row));
    for (const [value, rows] of byValue) {
      if (rows.length < input.minRows) continue;
      const pick = (from: Float32Array) => Float32Array.from(rows, (r) => from[r]!);
      const y = pick(input.y);
      const candidate = evaluateAll(input.task, y, pick(input.candidate))[input.metric]!;
      const champion = evaluateAll(input.task, y, pick(input.champion))[input.metric]!;
      scores.push({ column: slice.column, value: slice.names[value] ?? String(value), rows: rows.length, candidate, champion, regression: regressionOf(input.metric, candidate, champion) });
    }
  }
  return scores.sort((a, b) => b.regression - a.regression || b.rows - a.rows);
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const fmt = (n: number): string => n.toPrecision(5);

/** The reason a candidate is rejected for a slice, or undefined when no slice regresses past `maxRegression`. */
export function sliceRejection(metric: MetricName, scores: readonly SliceScore[], maxRegression: number): string | undefined {
  const worse = scores.filter((s) => s.regression > maxRegression);
  if (worse.length === 0) return undefined;
  const named = worse.slice(0, 3).map((s) => `${s.column}=${s.value} (${s.rows} rows): ${metric} ${fmt(s.candidate)} vs the champion's ${fmt(s.champion)}, ${pct(s.regression)} worse`);
  return `worse on ${worse.length} slice${worse.length === 1 ? '' : 's'} by more than eval.maxSliceRegression ${pct(maxRegression)}: ${named.join('; ')}${worse.length > 3 ? '; …' : ''}`;
}
