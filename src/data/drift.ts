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
/** A bin with no mass on one side counts as this share (PSI is infinite otherwise). */
const FLOOR = 1e-4;

/** Drift per column present on both sides. */
export function columnDrift(reference: readonly PartitionStats[], fresh: readonly PartitionStats[]): ColumnDrift[] {
  if (reference.length === 0 || fresh.length === 0) return [];
  const out: ColumnDrift[] = [];
  for (const column of Object.keys(reference[0]!.columns)) {
    const ref = present(reference, column);
    const now = present(fresh, column);
    if (ref.length === 0 || now.length === 0) continue;
    if (ref[0]!.stats.kind === 'numeric') out.push({ column, method: 'psi', value: psi(ref, now) });
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
 * The population stability index, Σ (a − e) · ln(a / e) over the reference's decile bins,
 * less what two samples of one distribution show on average, (bins − 1)·(1/n₁ + 1/n₂)
 * (PSI is a symmetrised chi-square statistic over n), so unchanged data reads near 0.
 */
export function psi(reference: readonly Weighted[], fresh: readonly Weighted[]): number {
  const candidates = [...new Set(reference.flatMap((p) => (p.stats.kind === 'numeric' ? p.stats.quantiles : [])))].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < BINS; k++) {
    const edge = candidates.find((x) => mixtureCdf(reference, x) >= k / BINS);
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  let index = 0;
  let [refBelow, nowBelow] = [0, 0];
  for (const edge of [...edges, Infinity]) {
    const refAt = edge === Infinity ? 1 : mixtureCdf(reference, edge);
    const nowAt = edge === Infinity ? 1 : mixtureCdf(fresh, edge);
    const e = Math.max(FLOOR, refAt - refBelow);
    const a = Math.max(FLOOR, nowAt - nowBelow);
    index += (a - e) * Math.log(a / e);
    [refBelow, nowBelow] = [refAt, nowAt];
  }
  const [n1, n2] = [sampledCount(reference), sampledCount(fresh)];
  return Math.max(0, index - (n1 > 0 && n2 > 0 ? edges.length * (1 / n1 + 1 / n2) : 0));
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
    if (stats.other > 0) out.set('\u0000other', (out.get('\u0000other') ?? 0) + stats.other * scale);
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
export function jensenShannon(reference: readonly Weighted[], fresh: readonly Weighted[]): number {
  const p = shares(reference);
  const q = shares(fresh);
  const values = new Set([...p.keys(), ...q.keys()]);
  let divergence = 0;
  for (const value of values) {
    const [pv, qv] = [p.get(value) ?? 0, q.get(value) ?? 0];
    const m = (pv + qv) / 2;
    if (pv > 0) divergence += 0.5 * pv * Math.log2(pv / m);
    if (qv > 0) divergence += 0.5 * qv * Math.log2(qv / m);
  }
  const [n1, n2] = [sampledCount(reference), sampledCount(fresh)];
  const bias = n1 > 0 && n2 > 0 ? ((values.size - 1) / (8 * Math.LN2)) * (1 / n1 + 1 / n2) : 0;
  return Math.sqrt(Math.max(0, divergence - bias));
}
