// A retrain's result as the mean of the weights of its last few checkpoints
// (retrain.averageCheckpoints): stochastic weight averaging (Izmailov et al., "Averaging
// Weights Leads to Wider Optima and Better Generalization", 2018), over the checkpoints the
// run writes anyway at its virtual epochs' ends.
//
// Why: on the 2001 flights, a model retrained with another seed differs on the next week by
// 1–2% of its error — as much as a typical candidate differs from its champion — so the gate
// judged noise as often as freshness. The average of the retrain's last checkpoints carries
// less of that noise (BENCHMARKS.md › Averaged retrains).
//
// Where it is recorded: as one more checkpoint of the run, one step after its last trained
// step (the registry keeps one checkpoint per step, and no training step is taken: the
// step count is a position, the virtual epoch stays the last one's; state.averagedFrom
// names the steps averaged). It is the run's result, so the gate's candidate, the export
// and the next retrain's base candidates see the averaged weights. Restore-best does not
// apply to an averaged run: the average is its result.
import type { ResolvedConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { listRunCheckpoints, type Checkpoint, type Registry, type Run } from '../../registry/index.ts';
import { tf } from '../backend.ts';
import { restoreModelWeights, type LoadedCheckpoint, type TrainingState } from '../checkpoints/checkpoint-io.ts';
import { loadCheckpoint } from '../checkpoints/checkpoint-store.ts';
import type { CheckpointWriter } from './checkpoint-writer.ts';

/** A run at its end, as run-end.ts and the averaging see it. */
export interface EndingRun {
  db: Registry;
  config: ResolvedConfig;
  run: Run;
  model: tf.LayersModel;
  state: TrainingState;
  checkpoints: CheckpointWriter;
  /** Measures the model as it now is on the run's validation rows into the state (an averaged result's val_loss). */
  measure: () => void;
  log: Logger;
}

/**
 * Writes the average of the run's last `retrain.averageCheckpoints` checkpoints as its
 * result checkpoint and returns it; undefined when nothing is averaged (a first run, the
 * setting at 1, fewer than two checkpoints, or the lease lost). The caller has applied
 * retention, which keeps at least that many of the newest (training.retention.keepLast,
 * checked by the configuration).
 */
export async function writeAveragedResult({ db, config, run, model, state, checkpoints, measure, log }: EndingRun): Promise<Checkpoint | undefined> {
  const count = config.retrain.averageCheckpoints;
  if (run.kind === 'initial' || count < 2) return undefined;
  const newest = (await listRunCheckpoints(db, run.id)).slice(-count); // in step order
  if (newest.length < 2) return undefined;
  const loaded: LoadedCheckpoint[] = [];
  try {
    for (const checkpoint of newest) loaded.push(await loadCheckpoint(db, config, checkpoint));
    const mean = tf.tidy(() => loaded[0]!.weights.map((_, i) => tf.div(tf.addN(loaded.map((l) => l.weights[i]!)), loaded.length)));
    restoreModelWeights(model, mean);
    tf.dispose(mean);
  } finally {
    for (const l of loaded) tf.dispose([...l.weights, ...l.optimizerWeights.map((w) => w.tensor)]);
  }
  measure();
  state.globalStep += 1;
  state.averagedFrom = newest.map((c) => Number(c.global_step));
  const row = await checkpoints.write({ epochCurve: false });
  if (row) log.info({ checkpoint: row.id, step: state.globalStep, averagedFrom: state.averagedFrom, valLoss: state.valLoss }, `the run's result: the mean of its last ${newest.length} checkpoints' weights`);
  return row;
}
