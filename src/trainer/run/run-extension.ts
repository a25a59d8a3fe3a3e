// A run from scratch ends when early stopping says so, not at a count fixed in advance: at
// its nominal end (training.numCheckpoints virtual epochs) it goes on, one virtual epoch at
// a time, while each check still improves on the best validation loss, up to
// training.extraEpochs more. The virtual epoch itself (steps_per_epoch) never changes.
// Decided from the checkpointed state alone, so a resumed run extends exactly as an
// uninterrupted one would.

export interface ExtensionState {
  globalStep: number;
  virtualEpoch: number;
  earlyStopping: { bestStep: number | null; stopped: boolean };
}

/** True when a run that reached `targetEpochs` trains one more virtual epoch. */
export function extendsRun(state: ExtensionState, run: { fromScratch: boolean; targetEpochs: number; nominalEpochs: number; extraEpochs: number }): boolean {
  return (
    run.fromScratch &&
    state.virtualEpoch >= run.targetEpochs &&
    run.targetEpochs < run.nominalEpochs + run.extraEpochs &&
    !state.earlyStopping.stopped &&
    state.globalStep > 0 &&
    state.earlyStopping.bestStep === state.globalStep
  );
}
