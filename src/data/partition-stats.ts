// A partition's statistics, as the registry keeps them (partitions.stats, the view
// partition_column_stats; docs/definitions.md › Partition statistics). Rows and missing
// values are exact (counted by the validation pass); the rest is computed from the value
// sample (value-sample.ts), which is every value of a small partition.
import type { SampledValues } from './value-sample.ts';

/** Quantile points kept per numeric column: 0, 5 %, …, 100 % (the sketch PSI bins come from). */
export const QUANTILE_LEVELS = Array.from({ length: 21 }, (_, i) => i / 20);

/** Distinct values kept per categorical column (most frequent first); the rest are counted as `other`. */
export const TOP_VALUES = 1000;

export interface NumericColumnStats {
  kind: 'numeric';
  /** Rows where the value is missing, NaN or infinite (exact). */
  missing: number;
  /** Values in the sample. */
  sampled: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** m₄ / m₂² of the sample (3 for a normal distribution; null when every value is the same): how noisy a sample's standard deviation is. */
  kurtosis: number | null;
  /** Values at QUANTILE_LEVELS, from the sample (empty when no value was present). */
  quantiles: number[];
}

export interface CategoricalColumnStats {
  kind: 'categorical';
  missing: number;
  sampled: number;
  /** Distinct values in the sample. */
  distinct: number;
  /** The most frequent values with their counts in the sample, most frequent first. */
  top: Array<[string, number]>;
  /** Sampled values outside `top`. */
  other: number;
}

export type ColumnStats = NumericColumnStats | CategoricalColumnStats;

export interface PartitionStats {
  rows: number;
  columns: Record<string, ColumnStats>;
  /** Per lineage whose schema checked it: each categorical column's share of sampled values outside the schema's domain. */
  newValueShare?: Record<string, Record<string, number>>;
}

/** The statistics of a partition from its exact counts and its value sample. */
export function summarizePartition(rows: number, missing: readonly number[], sample: SampledValues, categorical: ReadonlySet<string>): PartitionStats {
  const columns: Record<string, ColumnStats> = {};
  sample.columns.forEach((name, c) => {
    const values = sample.values[c]!;
    columns[name] = categorical.has(name) ? categoricalStats(missing[c]!, values as string[]) : numericStats(missing[c]!, values as number[]);
  });
  return { rows, columns };
}

/** Sorting room, reused: a typed array sorts numerically without a comparator, and one buffer allocates nothing per partition. */
let sortRoom = new Float64Array(1024);

function numericStats(missing: number, values: readonly number[]): NumericColumnStats {
  if (values.length === 0) return { kind: 'numeric', missing, sampled: 0, min: null, max: null, mean: null, std: null, kurtosis: null, quantiles: [] };
  if (sortRoom.length < values.length) sortRoom = new Float64Array(values.length);
  sortRoom.set(values);
  const sorted = sortRoom.subarray(0, values.length).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / sorted.length;
  let squares = 0;
  let fourth = 0;
  for (const v of sorted) {
    const d2 = (v - mean) ** 2;
    squares += d2;
    fourth += d2 * d2;
  }
  const m2 = squares / sorted.length;
  return {
    kind: 'numeric',
    missing,
    sampled: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean,
    std: Math.sqrt(m2),
    kurtosis: m2 > 0 ? fourth / sorted.length / (m2 * m2) : null,
    quantiles: QUANTILE_LEVELS.map((q) => quantileOfSorted(sorted, q)),
  };
}

/** Linear interpolation between the closest ranks (type 7, as numpy and R by default). */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

function categoricalStats(missing: number, values: readonly string[]): CategoricalColumnStats {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  // Most frequent first; ties in code-unit order, so the same data gives the same list.
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = ranked.slice(0, TOP_VALUES);
  const kept = top.reduce((n, [, count]) => n + count, 0);
  return { kind: 'categorical', missing, sampled: values.length, distinct: counts.size, top, other: values.length - kept };
}

/**
 * The share of a numeric column's values at or below x, read off the quantile sketch by
 * linear interpolation (a piecewise-linear CDF through the quantile points).
 */
export function sketchCdf(quantiles: readonly number[], x: number): number {
  const n = quantiles.length;
  if (n === 0) return 0;
  if (x < quantiles[0]!) return 0;
  if (x >= quantiles[n - 1]!) return 1;
  let i = 0;
  while (i < n - 2 && x >= quantiles[i + 1]!) i++;
  const [a, b] = [quantiles[i]!, quantiles[i + 1]!];
  const within = b > a ? (x - a) / (b - a) : 1;
  return (i + within) / (n - 1);
}
