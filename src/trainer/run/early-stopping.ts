// Early stopping with Keras semantics, as a plain state machine whose state is saved in
// every checkpoint (so a resumed run stops exactly where an uninterrupted one would).

export interface EarlyStoppingArgs {
  /** Default true. */
  enabled: boolean;
  /** Checks without improvement before stopping. Default 3. */
  patience: number;
  /** Improvement means current < best − |minDelta|. Default 0. */
  minDelta: number;
  /** Virtual epochs before stopping may fire. Default 0. */
  startFromEpoch: number;
}

export interface EarlyStoppingState {
  best: number | null;
  /** global step of the check that set `best` (the checkpoint to restore). */
  bestStep: number | null;
  wait: number;
  stopped: boolean;
  /**
   * The last improvement's size: (previous best − new best) ÷ |previous best| at the check
   * that set `best` (Infinity at the first). Absent in checkpoints written before issue #29.
   */
  gain?: number;
}

export const initialEarlyStopping = (): EarlyStoppingState => ({ best: null, bestStep: null, wait: 0, stopped: false });

/**
 * Feeds one validation loss; returns the new state (the input is not mutated). As in Keras:
 * checks before `startFromEpoch` are ignored; improvement resets `wait`; otherwise `wait`
 * grows and the run stops once `wait >= patience`. A non-finite loss never improves.
 */
export function updateEarlyStopping(
  state: EarlyStoppingState,
  args: EarlyStoppingArgs,
  valLoss: number,
  at: { step: number; virtualEpoch: number },
): EarlyStoppingState {
  if (at.virtualEpoch < args.startFromEpoch) return state;
  if (Number.isFinite(valLoss) && (state.best === null || valLoss < state.best - Math.abs(args.minDelta))) {
    const gain = state.best === null ? Number.POSITIVE_INFINITY : state.best === 0 ? 0 : (state.best - valLoss) / Math.abs(state.best);
    return { best: valLoss, bestStep: at.step, wait: 0, stopped: false, gain };
  }
  const wait = state.wait + 1;
  return { ...state, wait, stopped: args.enabled && wait >= args.patience };
}
