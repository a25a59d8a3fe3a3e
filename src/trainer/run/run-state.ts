// The state a run carries from step to step and saves in every checkpoint, and the two
// ways it moves: one optimizer step, and the close of a virtual epoch. Plain data and
// plain functions (no tfjs), so that a resumed run's arithmetic is the uninterrupted one's
// by construction and each rule has its own test (test/trainer-units.test.ts).
import type { ResolvedConfig } from '../../core/config.ts';
import { TrainingError } from '../../core/errors.ts';
import type { TrainingState } from '../checkpoints/checkpoint-io.ts';
import type { DataCursor, FeatureStats } from '../stream/stream-spec.ts';
import { initialEarlyStopping } from './early-stopping.ts';
import type { StartPoint } from './run-start.ts';

/** Where a run's training stream starts: a resumed run where its checkpoint stood (with its invalid-row count so far), any other run at the beginning. */
export function streamStart(start: Pick<StartPoint, 'loaded' | 'continuing'>): { cursor: DataCursor; invalidRows: number } {
  const continued = start.continuing ? start.loaded?.state : undefined;
  return { cursor: continued?.cursor ?? { pass: 0, offset: 0 }, invalidRows: continued?.invalidRows ?? 0 };
}

/**
 * The state a run continues from. A resumed run continues its checkpoint exactly; a new
 * run from a base checkpoint keeps its step, epoch and optimizer, but gets fresh
 * early-stopping counters, a fresh data cursor and a fresh epoch accumulator.
 */
export function initialState(
  start: Pick<StartPoint, 'loaded' | 'continuing'> & { lineage: { id: string; steps_per_epoch: number }; run: { id: string } },
  training: Pick<ResolvedConfig['training'], 'learningRate' | 'seed'>,
  adam: { beta1: number; beta2: number; epsilon: number },
  featureStats: FeatureStats,
): TrainingState {
  const carried = start.loaded?.state;
  const continued = start.continuing ? carried : undefined;
  const stream = streamStart(start);
  return {
    format: 1,
    lineageId: start.lineage.id,
    runId: start.run.id,
    globalStep: carried?.globalStep ?? 0,
    virtualEpoch: carried?.virtualEpoch ?? 0,
    stepInEpoch: continued?.stepInEpoch ?? 0,
    stepsPerEpoch: start.lineage.steps_per_epoch,
    learningRate: training.learningRate,
    adam: { beta1: adam.beta1, beta2: adam.beta2, epsilon: adam.epsilon, accBeta1: 0, accBeta2: 0 },
    earlyStopping: continued?.earlyStopping ?? initialEarlyStopping(),
    featureStats,
    cursor: stream.cursor,
    seed: training.seed,
    epochLoss: continued?.epochLoss ?? { sum: 0, count: 0 },
    trainLoss: carried?.trainLoss ?? null,
    valLoss: carried?.valLoss ?? null,
    metrics: carried?.metrics ?? {},
    invalidRows: stream.invalidRows,
    // A resumed run whose average was already written (a crash before the run was closed) must not average again.
    ...(continued?.averagedFrom ? { averagedFrom: continued.averagedFrom } : {}),
  };
}

/** One optimizer step taken; `cursor` is where the stream stands after its batch. */
export function advanceStep(state: TrainingState, cursor: DataCursor): void {
  state.globalStep += 1;
  state.stepInEpoch += 1;
  state.cursor = cursor;
}

/** True when the step just taken was the last of a virtual epoch. */
export const atEpochEnd = (state: TrainingState): boolean => state.stepInEpoch === state.stepsPerEpoch;

/**
 * Closes a virtual epoch: its mean training loss becomes `trainLoss` and the epoch counter
 * moves on. A loss that is not finite fails the run here (NaN or ∞ would otherwise be
 * checkpointed, compared and perhaps promoted).
 */
export function closeEpoch(state: TrainingState, epochLoss: { sum: number; count: number }): void {
  const trainLoss = epochLoss.sum / epochLoss.count;
  if (!Number.isFinite(trainLoss)) throw new TrainingError(`training loss became ${trainLoss} in virtual epoch ${state.virtualEpoch + 1}: the run fails (check the data and the learning rate)`);
  state.trainLoss = trainLoss;
  state.virtualEpoch += 1;
  state.stepInEpoch = 0;
}

/** What a step's end asks for: which checkpoint, if any, and whether early stopping counts it. */
export type CheckpointDue = 'epoch-end' | 'periodic' | 'early' | null;

/**
 * The checkpoint due after the step just taken: at a virtual epoch's end (an early-stopping
 * check), every `checkpointEvery` steps (also a check), or at one of the lineage's early
 * steps on the descent — measured, but not a check: a patience counted in those steps
 * would stop a run that has barely started.
 */
export function checkpointDue(state: TrainingState, checkpointEvery: number, earlySteps: ReadonlySet<number>): CheckpointDue {
  if (atEpochEnd(state)) return 'epoch-end';
  if (checkpointEvery > 0 && state.globalStep % checkpointEvery === 0) return 'periodic';
  if (earlySteps.has(state.globalStep)) return 'early';
  return null;
}
