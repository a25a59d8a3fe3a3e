// Plateau detection on a training-loss curve, as docs/definitions.md › Plateau rule defines it. Pure: numbers in,
// a decision and the numbers behind it out, so it can be tested on synthetic curves and
// its choices audited.
//
// 1. Smooth: S_0 = L_0, S_i = α·L_i + (1 − α)·S_{i−1}.
// 2. Plateau start p = the first i ≥ 1 whose next `window` points gain at most `minGain`
//    of everything gained so far: S_i − S_{i+window} ≤ minGain · max(0, S_0 − S_i).
//    Scale-free: a curve that keeps shrinking 1–2 % a step still counts once it has
//    flattened relative to its descent. "At most" (rather than "less than") so that a
//    curve flat from the start (nothing gained, nothing to gain) is a plateau at once
//    rather than never; the clamp at 0 makes a rising start count the same way.
// 3. Chosen base = c_{max(0, p − offset)}. No plateau yet → the latest point.

export interface PlateauOptions {
  /** EMA smoothing factor in (0, 1]; 1 = no smoothing. */
  alpha: number;
  /** How many points ahead to look. */
  window: number;
  /** Share of the descent so far that the next `window` points must beat to not be a plateau. */
  minGain: number;
  /** How many points before the plateau start to choose. */
  offset: number;
}

export const DEFAULT_PLATEAU: PlateauOptions = { alpha: 0.5, window: 3, minGain: 0.05, offset: 1 };

export interface PlateauResult {
  /** Index of the plateau start, or null when the curve has not flattened (or is too short to tell). */
  plateauStart: number | null;
  /** Index of the chosen point. */
  chosen: number;
  /** One sentence a person can read in a log or a table. */
  reason: string;
  smoothed: number[];
  /** For the plateau start: gain over the next window and gain so far (smoothed). */
  gainAhead: number | null;
  gainSoFar: number | null;
}

export class PlateauInputError extends Error {
  override name = 'PlateauInputError';
}

function validate(losses: readonly number[], options: PlateauOptions): void {
  if (losses.length === 0) throw new PlateauInputError('the loss curve is empty: no checkpoint to choose');
  const bad = losses.findIndex((loss) => !Number.isFinite(loss));
  if (bad >= 0) throw new PlateauInputError(`loss at index ${bad} is ${losses[bad]}: plateau detection needs finite losses`);
  if (!(options.alpha > 0 && options.alpha <= 1)) throw new PlateauInputError(`alpha must be in (0, 1], got ${options.alpha}`);
  if (!Number.isInteger(options.window) || options.window < 1) throw new PlateauInputError(`window must be a positive integer, got ${options.window}`);
  if (!(options.minGain >= 0)) throw new PlateauInputError(`minGain must be ≥ 0, got ${options.minGain}`);
  if (!Number.isInteger(options.offset) || options.offset < 0) throw new PlateauInputError(`offset must be a non-negative integer, got ${options.offset}`);
}

export function smooth(losses: readonly number[], alpha: number): number[] {
  const out: number[] = [];
  for (const [i, loss] of losses.entries()) out.push(i === 0 ? loss : alpha * loss + (1 - alpha) * out[i - 1]!);
  return out;
}

/**
 * Finds the plateau start of a loss series (index 0 = first checkpoint) and the point to
 * start from. `labels` name the points in the reason (e.g. virtual epochs); default: index.
 */
export function detectPlateau(losses: readonly number[], options: PlateauOptions = DEFAULT_PLATEAU, labels?: readonly (number | string)[]): PlateauResult {
  validate(losses, options);
  const name = (i: number): string => `virtual epoch ${labels?.[i] ?? i}`;
  const s = smooth(losses, options.alpha);
  const last = s.length - 1;
  for (let i = 1; i + options.window <= last; i++) {
    const gainAhead = s[i]! - s[i + options.window]!;
    const gainSoFar = Math.max(0, s[0]! - s[i]!);
    if (gainAhead <= options.minGain * gainSoFar) {
      const chosen = Math.max(0, i - options.offset);
      const share = gainSoFar > 0 ? `${((100 * gainAhead) / gainSoFar).toFixed(1)}% of the descent so far` : `${gainAhead.toPrecision(3)} after no descent`;
      return {
        plateauStart: i,
        chosen,
        reason: `plateau began at ${name(i)}: the next ${options.window} checkpoints gain ${share} (≤ ${100 * options.minGain}%); chose ${name(chosen)}`,
        smoothed: s,
        gainAhead,
        gainSoFar,
      };
    }
  }
  const why = last < options.window + 1 ? `too short to judge (${s.length} checkpoints; needs ${options.window + 2})` : `no plateau yet in ${s.length} checkpoints`;
  return { plateauStart: null, chosen: last, reason: `${why}: chose the latest, ${name(last)}`, smoothed: s, gainAhead: null, gainSoFar: null };
}
