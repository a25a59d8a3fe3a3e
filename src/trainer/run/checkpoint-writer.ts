// A run's checkpoints: the full state written atomically (weights, optimizer, cursor, early
// stopping, the epoch's loss sum), then, in the registry, the loss points logged since the
// previous checkpoint, the epoch's curve point (at an epoch's end) and the checkpoint row;
// then retention. The registry's rows come after the files, and the curve before the row:
// a crash before the row repeats the epoch, which upserts the same values.
import path from 'node:path';
import type { ResolvedConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { insertLossPoints, recordEpochLoss, type Checkpoint, type Lineage, type Registry, type Run } from '../../registry/index.ts';
import type { tf } from '../backend.ts';
import { writeCheckpoint, type TrainingState } from '../checkpoints/checkpoint-io.ts';
import { artifactStore } from '../checkpoints/checkpoint-store.ts';
import { applyRetention, checkpointUri } from '../checkpoints/retention.ts';
import type { TrainStep } from '../model/train-step.ts';
import type { RowCounts } from '../stream/stream-spec.ts';
import type { ThroughputMeter } from './throughput-meter.ts';
import type { TrainObserver } from './train-observer.ts';

export interface CheckpointWriterOptions {
  db: Registry;
  config: ResolvedConfig;
  run: Run;
  lineage: Lineage;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** Adam's bias-correction accumulators (read into the state at each checkpoint). */
  adam: { accBeta1: tf.Variable; accBeta2: tf.Variable };
  trainStep: TrainStep;
  /** The run's state, written as it is at each checkpoint (this writer fills in the epoch loss, Adam and invalid rows). */
  state: TrainingState;
  counts: RowCounts;
  throughput: ThroughputMeter;
  /** The combined observers (combineObservers: every hook present, a throwing one logged). */
  observer: Required<TrainObserver>;
  log: Logger;
  /** True when another process may own the run now: nothing more is written. */
  leaseLost: () => boolean;
  retryWrites: <T>(what: string, write: () => Promise<T>) => Promise<T>;
  protectSteps?: ((runId: string) => Promise<number[]>) | undefined;
}

export class CheckpointWriter {
  readonly #o: CheckpointWriterOptions;
  /** Loss points logged since the last checkpoint, written with it. */
  #pendingPoints: Array<{ step: number; loss: number }> = [];
  /** The step and registry id of the newest checkpoint this process wrote (-1 / null: none yet). */
  lastStep = -1;
  lastId: string | null = null;

  constructor(options: CheckpointWriterOptions) {
    this.#o = options;
  }

  /** A logged training-loss point, recorded with the next checkpoint. */
  addLossPoint(step: number, loss: number): void {
    this.#pendingPoints.push({ step, loss });
  }

  /**
   * Writes a full-state checkpoint at the state's current step; undefined when the lease is
   * lost. `epochCurve: false` for a checkpoint that closes no epoch of training (a retrain's
   * averaged result): the epoch's curve point stays the trained one's.
   */
  async write({ epochCurve = true }: { epochCurve?: boolean } = {}): Promise<Checkpoint | undefined> {
    const { db, config, run, lineage, state, log } = this.#o;
    if (this.#o.leaseLost()) return undefined;
    state.epochLoss = this.#o.trainStep.epochLoss();
    state.adam.accBeta1 = this.#o.adam.accBeta1.dataSync()[0]!;
    state.adam.accBeta2 = this.#o.adam.accBeta2.dataSync()[0]!;
    state.invalidRows = this.#o.counts.invalid;
    this.#o.throughput.report(); // before the write, so the checkpoint's time is not counted as training
    const uri = checkpointUri(lineage.id, run.id, state.globalStep);
    const started = performance.now();
    const written = await writeCheckpoint(path.join(config.artifactsDir, uri), this.#o.model, this.#o.optimizer, state);
    const points = this.#pendingPoints;
    const epochEnd = epochCurve && state.stepInEpoch === 0 && state.virtualEpoch > 0 && state.trainLoss !== null;
    const row = await this.#o.retryWrites('recording the checkpoint', async () => {
      await insertLossPoints(db, run.id, points);
      // The curve first: a crash before the checkpoint row repeats the epoch, which upserts the same values.
      if (epochEnd) await recordEpochLoss(db, { run_id: run.id, virtual_epoch: state.virtualEpoch, global_step: state.globalStep, train_loss: state.trainLoss!, val_loss: state.valLoss });
      const checkpointRow = {
        run_id: run.id,
        lineage_id: lineage.id,
        virtual_epoch: state.virtualEpoch,
        global_step: state.globalStep,
        uri,
        manifest_sha256: written.manifestSha256,
        bytes: written.bytes,
        train_loss: state.trainLoss,
        val_loss: state.valLoss,
        metrics: state.metrics,
      };
      return artifactStore(config.artifactStore, config).record(db, checkpointRow, written.readFiles);
    });
    this.#pendingPoints = [];
    this.lastStep = state.globalStep;
    this.lastId = row.id;
    const seconds = (performance.now() - started) / 1000;
    this.#o.throughput.restart(); // the next throughput figure starts after the write
    this.#o.observer.onCheckpoint({ runId: run.id, checkpointId: row.id, globalStep: state.globalStep, virtualEpoch: state.virtualEpoch, trainLoss: state.trainLoss, valLoss: state.valLoss, bytes: written.bytes, seconds });
    log.info(
      { checkpoint: row.id, step: state.globalStep, virtualEpoch: state.virtualEpoch, trainLoss: state.trainLoss, valLoss: state.valLoss, ms: Math.round(seconds * 1000), bytes: written.bytes },
      'checkpoint written',
    );
    await this.retain();
    return row;
  }

  /**
   * Retention after each checkpoint, and once more when the run ends: a kill between a
   * checkpoint's row and its retention must not leave more checkpoints (hence other base
   * candidates for the next retrain) than a run that was never interrupted.
   */
  retain(): Promise<string[]> {
    const { db, config, run, state, log } = this.#o;
    return this.#o.retryWrites('applying checkpoint retention', async () => {
      const protectedSteps = [...(state.earlyStopping.bestStep === null ? [] : [state.earlyStopping.bestStep]), ...((await this.#o.protectSteps?.(run.id)) ?? [])];
      return applyRetention(db, config, run.id, config.training.retention, protectedSteps, log);
    });
  }
}
