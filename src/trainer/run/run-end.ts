// The end of a run that was not interrupted: retention once more, the result checkpoint —
// the newest; for a retrain with retrain.averageCheckpoints above 1 the mean of its last
// checkpoints, written as one more (weight-averaging.ts); else with
// earlyStopping.restoreBestWeights the best validation loss's, whose weights are put back
// into the model — and the run closed as succeeded, saying whether it ended while its
// validation loss was still falling.
import type { ResolvedConfig } from '../../core/config.ts';
import { finishRun, listRunCheckpoints, type Checkpoint, type Registry } from '../../registry/index.ts';
import { tf } from '../backend.ts';
import { restoreModelWeights } from '../checkpoints/checkpoint-io.ts';
import { loadCheckpoint } from '../checkpoints/checkpoint-store.ts';
import { stillFalling } from './still-falling.ts';
import { writeAveragedResult, type EndingRun } from './weight-averaging.ts';

/** Puts a recorded checkpoint's weights into `model` (restore-best at a run's end). */
async function restoreWeights(db: Registry, config: ResolvedConfig, model: tf.LayersModel, checkpoint: Checkpoint): Promise<void> {
  const loaded = await loadCheckpoint(db, config, checkpoint);
  restoreModelWeights(model, loaded.weights);
  tf.dispose([...loaded.weights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
}

/** Closes a finished run; returns its result checkpoint's id (state's losses and metrics are the result's). */
export async function endRun(
  ending: EndingRun & {
    invalidRows: number;
    retryWrites: <T>(what: string, write: () => Promise<T>) => Promise<T>;
  },
): Promise<string | null> {
  const { db, config, run, model, state, checkpoints, invalidRows, retryWrites, log } = ending;
  await checkpoints.retain();
  const kept = await listRunCheckpoints(db, run.id);
  // Before a restore changes the state: was the loss still falling when the run reached its target?
  const falling = stillFalling(
    kept.map((c) => ({ step: Number(c.global_step), valLoss: c.val_loss })),
    { earlyStopped: state.earlyStopping.stopped, bestStep: state.earlyStopping.bestStep, lastStep: state.globalStep },
  );
  let resultId = checkpoints.lastId ?? kept.at(-1)?.id ?? null;
  // A retrain's result may be the mean of its last checkpoints (retrain.averageCheckpoints);
  // a run resumed after its average was written (state.averagedFrom) keeps that one.
  const averaged = state.averagedFrom ? kept.at(-1) : await writeAveragedResult(ending);
  const bestStep = state.earlyStopping.bestStep;
  const best = !averaged && config.training.earlyStopping.restoreBestWeights && bestStep !== null && bestStep !== state.globalStep ? kept.find((c) => Number(c.global_step) === bestStep) : undefined;
  if (averaged) {
    resultId = averaged.id;
  } else if (best) {
    await restoreWeights(db, config, model, best);
    Object.assign(state, { valLoss: best.val_loss, trainLoss: best.train_loss, metrics: best.metrics });
    resultId = best.id;
    log.info({ checkpoint: best.id, step: bestStep }, 'restored the best weights');
  }
  await retryWrites('finishing the run', () => finishRun(db, run.id, 'succeeded', { resultCheckpointId: resultId, invalidRows, stillFalling: falling.falling, valLossGain: falling.gain }));
  if (falling.falling) {
    const more = run.kind === 'initial' ? 'training.extraEpochs, or for a new lineage training.minSteps or training.numCheckpoints (a lineage keeps its steps_per_epoch)' : 'retrain.virtualEpochs';
    log.warn({ step: state.globalStep, valLossGain: falling.gain }, `the run ended while its validation loss was still falling (${(100 * falling.gain!).toFixed(1)}% lower at its last check than at the one before): the model is likely undertrained; the next retrain continues from it, or raise ${more}`);
  }
  log.info({ step: state.globalStep, virtualEpoch: state.virtualEpoch, earlyStopped: state.earlyStopping.stopped, valLoss: state.valLoss, metrics: state.metrics }, 'training run finished');
  return resultId;
}
