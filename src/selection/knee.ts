// The knee of a step-level training-loss curve (loss_points), as docs/definitions.md ›
// Knee rule defines it. Pure: points in, the knee and the numbers behind it out, so it is
// tested on curves of real shape (heavy-tailed noise, spikes, a drop then a drift, steps
// after a data shift) and its choices can be audited.
//
// 1. Smooth, robustly: a running median over `smoothWindow` points (a spike or a
//    heavy-tailed batch moves a median by one rank, a mean by its size), then the closest
//    non-increasing curve (isotonic regression, pool-adjacent-violators): "how low the
//    loss has got by step x", which is what the descent is.
// 2. Kneedle (Satopaa, Albrecht, Irwin and Raghavan, 2011): normalise steps and smoothed
//    losses to [0, 1]; the knee is the point farthest above the chord of the flipped
//    curve, d(x) = (1 − ŷ(x)) − x̂, i.e. where the curve stops falling faster than the
//    straight line from its start to its end.
// 3. No knee when the curve is too short (fewer than `minPoints`), flat (its smoothed
//    drop is under `minDrop` of its start level), or without a bend (max d below
//    `minDistance`: still falling as steadily as the chord).
// The caller chooses the newest checkpoint at or before the knee's step.

export interface KneeOptions {
  /** Points in the running median (odd; 1 = none). */
  smoothWindow: number;
  /** Smallest smoothed drop, as a share of the smoothed start level, that counts as a descent. */
  minDrop: number;
  /** Smallest Kneedle distance (normalised units) that counts as a bend. */
  minDistance: number;
}

export const DEFAULT_KNEE: KneeOptions = { smoothWindow: 9, minDrop: 0.02, minDistance: 0.1 };

/** At least this many points to tell a knee from noise. */
export const MIN_KNEE_POINTS = 5;

export interface KneeResult {
  /** Step of the knee; null when there is none (too short, flat, or no bend yet). */
  kneeStep: number | null;
  /** Index of the knee in the input. */
  kneeIndex: number | null;
  /** Kneedle distance at the knee (0 … 1). */
  distance: number | null;
  /** Smoothed start and end levels, and the drop between them as a share of the start. */
  startLevel: number;
  endLevel: number;
  drop: number;
  /** The smoothed curve, one value per input point. */
  smoothed: number[];
  reason: string;
}

export class KneeInputError extends Error {
  override name = 'KneeInputError';
}

function validate(points: ReadonlyArray<{ step: number; loss: number }>, options: KneeOptions): void {
  const bad = points.findIndex((p) => !Number.isFinite(p.loss) || !Number.isFinite(p.step));
  if (bad >= 0) throw new KneeInputError(`loss point ${bad} (step ${points[bad]!.step}) is ${points[bad]!.loss}: the knee needs finite losses`);
  for (let i = 1; i < points.length; i++) if (!(points[i]!.step > points[i - 1]!.step)) throw new KneeInputError(`loss points must be in increasing step order: step ${points[i]!.step} follows ${points[i - 1]!.step}`);
  if (!Number.isInteger(options.smoothWindow) || options.smoothWindow < 1 || options.smoothWindow % 2 === 0) throw new KneeInputError(`smoothWindow must be an odd positive integer, got ${options.smoothWindow}`);
  if (!(options.minDrop >= 0 && options.minDrop < 1)) throw new KneeInputError(`minDrop must be in [0, 1), got ${options.minDrop}`);
  if (!(options.minDistance >= 0 && options.minDistance < 1)) throw new KneeInputError(`minDistance must be in [0, 1), got ${options.minDistance}`);
}

/**
 * Running median over `window` points, centred, the window shrinking symmetrically at the
 * ends: a one-sided window at the start of a fast drop would report the middle of the
 * drop as its start.
 */
export function runningMedian(values: readonly number[], window: number): number[] {
  const half = (window - 1) / 2;
  return values.map((_, i) => {
    const h = Math.min(half, i, values.length - 1 - i);
    const slice = values.slice(i - h, i + h + 1).sort((a, b) => a - b);
    const mid = slice.length >> 1;
    return slice.length % 2 ? slice[mid]! : (slice[mid - 1]! + slice[mid]!) / 2;
  });
}

/** The least-squares non-increasing fit (pool adjacent violators). */
export function nonIncreasingFit(values: readonly number[]): number[] {
  const blocks: Array<{ sum: number; count: number }> = [];
  for (const v of values) {
    blocks.push({ sum: v, count: 1 });
    while (blocks.length > 1) {
      const b = blocks.at(-1)!;
      const a = blocks.at(-2)!;
      if (a.sum / a.count >= b.sum / b.count) break; // non-increasing so far
      blocks.splice(-2, 2, { sum: a.sum + b.sum, count: a.count + b.count });
    }
  }
  return blocks.flatMap((b) => new Array<number>(b.count).fill(b.sum / b.count));
}

export function findKnee(points: ReadonlyArray<{ step: number; loss: number }>, options: KneeOptions = DEFAULT_KNEE): KneeResult {
  validate(points, options);
  const fmt = (n: number): string => n.toPrecision(4);
  const none = (reason: string, smoothed: number[] = points.map((p) => p.loss)): KneeResult => ({
    kneeStep: null,
    kneeIndex: null,
    distance: null,
    startLevel: smoothed[0] ?? Number.NaN,
    endLevel: smoothed.at(-1) ?? Number.NaN,
    drop: smoothed.length ? dropOf(smoothed) : 0,
    smoothed,
    reason,
  });
  if (points.length < MIN_KNEE_POINTS) return none(`too short to find a knee (${points.length} loss points; needs ${MIN_KNEE_POINTS})`);
  const smoothed = nonIncreasingFit(runningMedian(points.map((p) => p.loss), options.smoothWindow));
  const start = smoothed[0]!;
  const end = smoothed.at(-1)!;
  const drop = dropOf(smoothed);
  if (!(drop >= options.minDrop) || start === end) {
    return none(`no descent: the smoothed loss falls ${(100 * drop).toFixed(1)}% (${fmt(start)} → ${fmt(end)}), under plateau.minDrop ${100 * options.minDrop}%`, smoothed);
  }
  const x0 = points[0]!.step;
  const span = points.at(-1)!.step - x0;
  let best = -Infinity;
  let at = 0;
  for (const [i, p] of points.entries()) {
    const d = (start - smoothed[i]!) / (start - end) - (p.step - x0) / span;
    if (d > best) {
      best = d;
      at = i;
    }
  }
  if (best < options.minDistance) {
    return { ...none(`no bend yet: the smoothed loss falls ${(100 * drop).toFixed(1)}% as steadily as a straight line (Kneedle distance ${best.toFixed(3)} < plateau.minDistance ${options.minDistance})`, smoothed) };
  }
  const step = points[at]!.step;
  return {
    kneeStep: step,
    kneeIndex: at,
    distance: best,
    startLevel: start,
    endLevel: end,
    drop,
    smoothed,
    reason: `knee at step ${step}: the smoothed loss fell ${fmt(start)} → ${fmt(smoothed[at]!)} by then and ${fmt(end)} by step ${points.at(-1)!.step} (Kneedle distance ${best.toFixed(3)})`,
  };
}

/** The smoothed curve's fall from its start to its end, as a share of the start's magnitude. */
function dropOf(smoothed: readonly number[]): number {
  const start = smoothed[0]!;
  return start === 0 ? 0 : (start - smoothed.at(-1)!) / Math.abs(start);
}
