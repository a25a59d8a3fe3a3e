// Whether a run ended while its validation loss was still falling: the sign that its
// budget (training.minSteps for a first run, retrain.virtualEpochs for a retrain) was too
// short for the data, which a user should hear rather than find out from a poor model.

/**
 * A fall at the last check smaller than this (relative, 1 %) is a crawl along the plateau,
 * not a descent. The same line decides whether a first run goes on (run-extension.ts).
 */
export const STILL_FALLING_MIN_GAIN = 0.01;

export interface StillFalling {
  falling: boolean;
  /** The last check's relative fall below the check before it; null without two checks. */
  gain: number | null;
}

/**
 * `checks`: the run's validation losses in step order (its checkpoints). Falling: the run
 * was not stopped early, its last check was its best (early stopping's best step is the
 * run's last step), and it fell below the check before by at least STILL_FALLING_MIN_GAIN.
 */
export function stillFalling(checks: ReadonlyArray<{ step: number; valLoss: number | null }>, end: { earlyStopped: boolean; bestStep: number | null; lastStep: number }): StillFalling {
  const measured = checks.filter((c): c is { step: number; valLoss: number } => c.valLoss !== null && Number.isFinite(c.valLoss));
  const last = measured.at(-1);
  const before = measured.at(-2);
  const gain = last && before && before.valLoss !== 0 ? (before.valLoss - last.valLoss) / Math.abs(before.valLoss) : null;
  const falling = !end.earlyStopped && end.bestStep === end.lastStep && last?.step === end.lastStep && gain !== null && gain >= STILL_FALLING_MIN_GAIN;
  return { falling, gain };
}
