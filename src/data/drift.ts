// Drift of a column between a reference (the partitions the champion trained on) and fresh
// partitions, from their stored statistics — no data is read again.
//
// Numeric columns: the population stability index over ten bins, the reference's deciles,
// with each side's share per bin read off its quantile sketch (a mixture of its partitions'
// sketches, weighted by present rows). Categorical columns: the Jensen–Shannon distance
// (base 2, so 0 … 1) between the value shares, values outside both sides' kept lists in one
// `other` bucket. Conventional readings: PSI < 0.1 no shift, 0.1–0.25 moderate, > 0.25
// large; a JS distance above 0.1 is Evidently's default alarm.
import { sketchCdf, type ColumnStats, type PartitionStats } from './partition-stats.ts';

export type DriftMethod = 'psi' | 'jensen_shannon';

export interface ColumnDrift {
  column: string;
  method: DriftMethod;
  value: number;
}

const BINS = 10;
/** The bin of the values a categorical comparison does not keep apart. */
const OTHER = '\u0000other';
/** A bin with no mass on one side counts as this share (PSI is infinite otherwise). */
const FLOOR = 1e-4;

/**
 * The reference side, prepared once per computation: per column the decile edges and the
 * reference's share below each (numeric), or its value shares (categorical), and its sample
 * size. Why apart: finding the edges evaluates the reference's mixture CDF many times
 * (O(partitions²) a column), and every fresh partition is held against the same reference.
 */
export interface DriftReference {
  columns: Map<string, NumericReference | CategoricalReference>;
}

interface NumericReference {
  kind: 'numeric';
  edges: number[];
  /** The reference's mixture CDF at each edge. */
  below: number[];
  sampled: number;
}

interface CategoricalReference {
  kind: 'categorical';
  shares: Map<string, number>;
  sampled: number;
}

export function driftReference(reference: readonly PartitionStats[]): DriftReference {
  const columns = new Map<string, NumericReference | CategoricalReference>();
  for (const column of reference.length ? Object.keys(reference[0]!.columns) : []) {
    const ref = present(reference, column);
    if (ref.length === 0) continue;
    if (ref[0]!.stats.kind === 'numeric') {
      const edges = decileEdges(ref);
      columns.set(column, { kind: 'numeric', edges, below: edges.map((edge) => mixtureCdf(ref, edge)), sampled: sampledCount(ref) });
    } else {
      const all = shares(ref);
      columns.set(column, { kind: 'categorical', shares: foldRare(all, all), sampled: sampledCount(ref) });
    }
  }
  return { columns };
}

/** Drift per column present on both sides: `fresh` (one or more partitions, as one) against the reference. */
export function columnDrift(reference: DriftReference, fresh: readonly PartitionStats[]): ColumnDrift[] {
  if (fresh.length === 0) return [];
  const out: ColumnDrift[] = [];
  for (const [column, ref] of reference.columns) {
    const now = present(fresh, column);
    if (now.length === 0) continue;
    if (ref.kind === 'numeric') out.push({ column, method: 'psi', value: psi(ref, now) });
    else out.push({ column, method: 'jensen_shannon', value: jensenShannon(ref, now) });
  }
  return out;
}

interface Weighted {
  weight: number;
  stats: ColumnStats;
}

function present(partitions: readonly PartitionStats[], column: string): Weighted[] {
  return partitions.flatMap((p) => {
    const stats = p.columns[column];
    return stats && stats.sampled > 0 ? [{ weight: p.rows - stats.missing, stats }] : [];
  });
}

function mixtureCdf(parts: readonly Weighted[], x: number): number {
  let total = 0;
  let at = 0;
  for (const { weight, stats } of parts) {
    if (stats.kind !== 'numeric') continue;
    total += weight;
    at += weight * sketchCdf(stats.quantiles, x);
  }
  return total > 0 ? at / total : 0;
}

/**
 * The reference's deciles: for k = 1 … 9 the smallest of its partitions' quantile points
 * where its mixture CDF reaches k/10 (the CDF does not decrease: a binary search).
 */
function decileEdges(reference: readonly Weighted[]): number[] {
  const candidates = [...new Set(reference.flatMap((p) => (p.stats.kind === 'numeric' ? p.stats.quantiles : [])))].sort((a, b) => a - b);
  const cdf = new Map<number, number>();
  const at = (i: number): number => cdf.get(i) ?? (cdf.set(i, mixtureCdf(reference, candidates[i]!)), cdf.get(i)!);
  const edges: number[] = [];
  for (let k = 1; k < BINS; k++) {
    let [low, high] = [0, candidates.length]; // the first index whose CDF reaches k/BINS, or length
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (at(mid) >= k / BINS) high = mid;
      else low = mid + 1;
    }
    const edge = candidates[low];
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  return edges;
}

/**
 * The population stability index, Σ (a − e) · ln(a / e) over the reference's decile bins,
 * less what two samples of one distribution show on average, (bins − 1)·(1/n₁ + 1/n₂)
 * (PSI is a symmetrised chi-square statistic over n), so unchanged data reads near 0.
 */
function psi(reference: NumericReference, fresh: readonly Weighted[]): number {
  let index = 0;
  let [refBelow, nowBelow] = [0, 0];
  reference.edges.forEach((edge, i) => {
    const [refAt, nowAt] = [reference.below[i]!, mixtureCdf(fresh, edge)];
    index += binTerm(refAt - refBelow, nowAt - nowBelow);
    [refBelow, nowBelow] = [refAt, nowAt];
  });
  index += binTerm(1 - refBelow, 1 - nowBelow); // the last bin, above the top edge
  const [n1, n2] = [reference.sampled, sampledCount(fresh)];
  return Math.max(0, index - (n1 > 0 && n2 > 0 ? reference.edges.length * (1 / n1 + 1 / n2) : 0));
}

function binTerm(expected: number, actual: number): number {
  const [e, a] = [Math.max(FLOOR, expected), Math.max(FLOOR, actual)];
  return (a - e) * Math.log(a / e);
}

/** Sampled values behind a side's shares (what the divergence's sampling bias depends on). */
function sampledCount(parts: readonly Weighted[]): number {
  return parts.reduce((n, p) => n + p.stats.sampled, 0);
}

function shares(parts: readonly Weighted[]): Map<string, number> {
  const out = new Map<string, number>();
  const total = parts.reduce((n, p) => n + p.weight, 0);
  for (const { weight, stats } of parts) {
    if (stats.kind !== 'categorical' || stats.sampled === 0) continue;
    const scale = weight / total / stats.sampled;
    for (const [value, count] of stats.top) out.set(value, (out.get(value) ?? 0) + count * scale);
    if (stats.other > 0) out.set(OTHER, (out.get(OTHER) ?? 0) + stats.other * scale);
  }
  return out;
}

/** A value's own bin needs this share of the reference; rarer values (and values it never had) share one. */
const MIN_BIN_SHARE = 0.01;

/**
 * Shares with every value under MIN_BIN_SHARE of the reference folded into one `other` bin.
 * Why: with a few hundred sampled values of hundreds of categories most counts are 0 or 1,
 * and the divergence's bias formula (a large-sample limit) leaves about 0.2 of noise; at
 * most 100 bins keep the samples dense enough for it (test/drift.test.ts: unchanged data
 * under 0.15 at 256 sampled values of 200 airports), while a value that takes a real share
 * of the partition moves the `other` bin, or its own.
 */
function foldRare(sideShares: ReadonlyMap<string, number>, referenceShares: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [value, share] of sideShares) {
    const key = value !== OTHER && (referenceShares.get(value) ?? 0) >= MIN_BIN_SHARE ? value : OTHER;
    out.set(key, (out.get(key) ?? 0) + share);
  }
  return out;
}

/**
 * The Jensen–Shannon distance (the square root of the divergence, base 2): 0 same shares,
 * 1 disjoint. Both sides are samples, and two samples of one distribution over k values
 * diverge by about (k − 1)/(8 ln 2)·(1/n₁ + 1/n₂) on average (the divergence's bias, as
 * twice the chi-square statistic over 8 ln 2 in the large-sample limit); that bias is
 * subtracted before the square root, so unchanged data reads near 0 whatever the sample size.
 */
function jensenShannon(reference: CategoricalReference, fresh: readonly Weighted[]): number {
  const p = reference.shares;
  const q = foldRare(shares(fresh), p);
  const values = new Set([...p.keys(), ...q.keys()]);
  let divergence = 0;
  for (const value of values) {
    const [pv, qv] = [p.get(value) ?? 0, q.get(value) ?? 0];
    const m = (pv + qv) / 2;
    if (pv > 0) divergence += 0.5 * pv * Math.log2(pv / m);
    if (qv > 0) divergence += 0.5 * qv * Math.log2(qv / m);
  }
  const [n1, n2] = [reference.sampled, sampledCount(fresh)];
  const bias = n1 > 0 && n2 > 0 ? ((values.size - 1) / (8 * Math.LN2)) * (1 / n1 + 1 / n2) : 0;
  return Math.sqrt(Math.max(0, divergence - bias));
}
