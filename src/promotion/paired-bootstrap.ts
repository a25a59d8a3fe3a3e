// Is the candidate's improvement over the champion on the gate rows more than noise?
// A paired block bootstrap: both models are scored on the same rows, the rows are cut
// into contiguous blocks (partition, file and line order: time blocks), and blocks, not
// rows, are resampled with replacement — neighbouring rows share a day's weather, a
// store's promotion, so counting them as independent would make any difference look
// significant (Künsch 1989, the moving-block bootstrap; here non-overlapping blocks).
import { Rng } from '../core/rng.ts';

export interface BootstrapInterval {
  /** The improvement on all gate rows (positive: the candidate is better). */
  improvement: number;
  /** The `1 - confidence` and `confidence` quantiles of the resampled improvement. */
  low: number;
  high: number;
  confidence: number;
  blocks: number;
  samples: number;
}

export interface BootstrapInput {
  rows: number;
  blocks: number;
  samples: number;
  confidence: number;
  seed: number;
  /**
   * The improvement on a resample given as how many times each block was drawn; called
   * once with all ones for the point estimate.
   */
  improvementOf: (blockStart: Int32Array, draws: Int32Array) => number;
}

/** Row offsets where each of `blocks` contiguous blocks of `rows` rows starts (one extra entry: the end). */
export function blockStarts(rows: number, blocks: number): Int32Array {
  const n = Math.max(1, Math.min(blocks, rows));
  const starts = new Int32Array(n + 1);
  for (let b = 0; b <= n; b++) starts[b] = Math.round((b * rows) / n);
  return starts;
}

function quantile(sorted: Float64Array, q: number): number {
  const at = Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)));
  return sorted[at]!;
}

export function pairedBlockBootstrap(input: BootstrapInput): BootstrapInterval {
  const starts = blockStarts(input.rows, input.blocks);
  const n = starts.length - 1;
  const draws = new Int32Array(n).fill(1);
  const improvement = input.improvementOf(starts, draws);
  const rng = new Rng(input.seed);
  const resampled = new Float64Array(input.samples);
  for (let s = 0; s < input.samples; s++) {
    draws.fill(0);
    for (let k = 0; k < n; k++) draws[rng.int(n)]! += 1;
    resampled[s] = input.improvementOf(starts, draws);
  }
  resampled.sort();
  return { improvement, low: quantile(resampled, 1 - input.confidence), high: quantile(resampled, input.confidence), confidence: input.confidence, blocks: n, samples: input.samples };
}

/**
 * The improvement function for a decomposable loss (lower is better): the mean over the
 * drawn rows of champion loss − candidate loss, from per-block sums (one pass, then
 * O(blocks) per resample).
 */
export function meanLossImprovement(candidate: Float64Array, champion: Float64Array, blocks: number): BootstrapInput['improvementOf'] {
  const starts = blockStarts(candidate.length, blocks);
  const sums = new Float64Array(starts.length - 1);
  for (let b = 0; b < sums.length; b++) for (let i = starts[b]!; i < starts[b + 1]!; i++) sums[b]! += champion[i]! - candidate[i]!;
  return (blockStart, draws) => {
    let sum = 0;
    let rows = 0;
    for (let b = 0; b < draws.length; b++) {
      sum += draws[b]! * sums[b]!;
      rows += draws[b]! * (blockStart[b + 1]! - blockStart[b]!);
    }
    return rows ? sum / rows : 0;
  };
}

/** The improvement function for a metric computed on whole row sets (AUC, higher is better): rebuilds the drawn rows. */
export function resampledImprovement(metric: (rows: Int32Array) => { candidate: number; champion: number }): BootstrapInput['improvementOf'] {
  return (blockStart, draws) => {
    let total = 0;
    for (let b = 0; b < draws.length; b++) total += draws[b]! * (blockStart[b + 1]! - blockStart[b]!);
    const rows = new Int32Array(total);
    let k = 0;
    for (let b = 0; b < draws.length; b++) for (let d = 0; d < draws[b]!; d++) for (let i = blockStart[b]!; i < blockStart[b + 1]!; i++) rows[k++] = i;
    const { candidate, champion } = metric(rows);
    return candidate - champion;
  };
}
