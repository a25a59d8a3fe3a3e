// A lineage's first run (kind initial) ends when early stopping says so, not at a count fixed
// in advance: at its nominal end (training.numCheckpoints virtual epochs) it goes on, one virtual epoch at
// a time, while each check lowers the best validation loss by at least EXTEND_MIN_GAIN, up to
// training.extraEpochs more. The virtual epoch itself (steps_per_epoch) never changes.
// Decided from the checkpointed state alone, so a resumed run extends exactly as an
// uninterrupted one would.
import { STILL_FALLING_MIN_GAIN } from './still-falling.ts';

/** The least fall of the best validation loss at the last check that counts as still descending (1 %): the "still falling" line. */
export const EXTEND_MIN_GAIN = STILL_FALLING_MIN_GAIN;

export interface ExtensionState {
  globalStep: number;
  virtualEpoch: number;
  earlyStopping: { bestStep: number | null; stopped: boolean; gain?: number };
}

/** True when a run that reached `targetEpochs` trains one more virtual epoch (retrains, from scratch too, keep retrain.virtualEpochs). */
export function extendsRun(state: ExtensionState, run: { firstRun: boolean; targetEpochs: number; nominalEpochs: number; extraEpochs: number }): boolean {
  return (
    run.firstRun &&
    state.virtualEpoch >= run.targetEpochs &&
    run.targetEpochs < run.nominalEpochs + run.extraEpochs &&
    !state.earlyStopping.stopped &&
    state.globalStep > 0 &&
    state.earlyStopping.bestStep === state.globalStep &&
    (state.earlyStopping.gain ?? 0) >= EXTEND_MIN_GAIN
  );
}
