// One training run: virtual epochs of a fixed number of steps, a full-state checkpoint at
// the end of each, early stopping on validation loss, and exact resume.
//
// Hot path (one step): copy the batch into two tensors, one fused forward/backward/Adam
// update inside optimizer.minimize, and one add into an on-device loss accumulator. The
// loss is read back only every `logEvery` steps and at checkpoints, never per step.
import path from 'node:path';
import type { ResolvedConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import {
  createRun,
  finishRun,
  getCheckpoint,
  getLineage,
  getRun,
  insertLossPoints,
  recordEpochLoss,
  listRunCheckpoints,
  type Checkpoint,
  type Lineage,
  type Registry,
  type Run,
  type RunKind,
} from '../registry/index.ts';
import { initBackend, tf } from './backend.ts';
import { adamInternals, restoreModelWeights, restoreOptimizer, writeCheckpoint, type LoadedCheckpoint, type TrainingState } from './checkpoint-io.ts';
import { loadEvalSet, type EvalSet, type FeatureStats, type TrainingPartition } from './dataset.ts';
import { prefetchedBatches } from './prefetch.ts';
import { initialEarlyStopping, updateEarlyStopping } from './early-stopping.ts';
import { columnSpec, comparePaths, ensureLineage, registeredPartitions, splitSpec } from './lineage.ts';
import { evaluateAll } from './metrics.ts';
import { buildMlp, loadUserModel, type TrainableModel } from './model.ts';
import { TrainStep, type LossFn } from './train-step.ts';
import { CorruptDirError } from './atomic-dir.ts';
import { loadCheckpoint, recordCheckpoint } from './checkpoint-store.ts';
import { applyRetention, checkpointUri, sweepCheckpointFiles } from './retention.ts';
import { effectiveStopPoint } from './virtual-epochs.ts';

export interface TrainProgress {
  runId: string;
  globalStep: number;
  virtualEpoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  targetEpochs: number;
  /** Training loss at the last logged step. */
  loss: number | null;
}

export interface TrainRunOptions {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  /** Aborting finishes the current step, writes a checkpoint and returns `interrupted`. */
  signal: AbortSignal;
  /** Continue this unfinished run from its newest good checkpoint. */
  resumeRunId?: string;
  /** Start a new run from this checkpoint's full state (early-stopping counters reset). */
  fromCheckpointId?: string;
  kind?: RunKind;
  jobId?: string;
  /** Virtual epochs to train; default: the lineage's numCheckpoints. */
  virtualEpochs?: number;
  /** Partitions to train on (new ones, and replayed older ones); default: every registered partition. */
  partitions?: TrainingPartition[];
  /** Partitions whose held-out rows are the validation set; default: the training partitions. */
  evalPartitions?: TrainingPartition[];
  /** Those rows already loaded (with the lineage's statistics) by the caller; a new run uses them instead of reading again. */
  evalSet?: EvalSet;
  /** How the base checkpoint was chosen (policy, candidates, scores), stored on the run. */
  baseSelection?: Record<string, unknown>;
  /** Steps whose checkpoints retention must keep besides its own rules (the run's pre-plateau one). */
  protectSteps?: (runId: string) => Promise<number[]>;
  /**
   * True when another process may own this run now (a job whose lease was lost): the run
   * stops without writing anything more.
   */
  leaseLost?: () => boolean;
  /** Retry registry writes through an outage (the daemon); default: fail at once. */
  retryWrites?: <T>(what: string, write: () => Promise<T>) => Promise<T>;
  /** Prometheus metrics to update as training goes (the daemon's). */
  metrics?: Metrics | undefined;
  /** Stop (as if aborted) after this many steps in this process; for crash and resume tests. */
  stopAfterSteps?: number;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainRunResult {
  runId: string;
  status: 'succeeded' | 'interrupted';
  globalStep: number;
  virtualEpoch: number;
  earlyStopped: boolean;
  /** The checkpoint the run ended with (its best one when restoreBestWeights is on). */
  resultCheckpointId: string | null;
  trainLoss: number | null;
  valLoss: number | null;
  metrics: Record<string, number>;
  /** Final model weights as bytes, in model.weights order (what tests compare). */
  weightBytes: Uint8Array;
}

function lossFunction(config: ResolvedConfig): { name: string; fn: LossFn } {
  const name = config.model.loss ?? (config.model.task === 'binary' ? 'logloss' : 'mse');
  if (config.model.task === 'binary' && name !== 'logloss') throw new UsageError(`model.loss ${name} does not fit task binary (use logloss)`);
  if (config.model.task === 'regression' && name === 'logloss') throw new UsageError('model.loss logloss does not fit task regression (use mse or mae)');
  const fn: LossFn =
    name === 'mse'
      ? (y, p) => tf.losses.meanSquaredError(y, p) as tf.Scalar
      : name === 'mae'
        ? (y, p) => tf.losses.absoluteDifference(y, p) as tf.Scalar
        : (y, p) => tf.losses.logLoss(y, p) as tf.Scalar;
  return { name, fn };
}

export async function buildModel(config: ResolvedConfig, inputDim: number): Promise<TrainableModel> {
  return config.model.module ? loadUserModel(config.model.module, inputDim) : buildMlp(config.model, inputDim, config.training.seed);
}

/** Predictions for the eval set, in batches, without dropout. */
function predict(model: tf.LayersModel, evalSet: EvalSet): Float32Array {
  const out = new Float32Array(evalSet.rows);
  const batch = 8192;
  for (let start = 0; start < evalSet.rows; start += batch) {
    const rows = Math.min(batch, evalSet.rows - start);
    const values = tf.tidy(() => {
      const x = tf.tensor2d(evalSet.x.subarray(start * evalSet.dim, (start + rows) * evalSet.dim), [rows, evalSet.dim]);
      return (model.predict(x) as tf.Tensor).dataSync();
    });
    out.set(values, start);
  }
  return out;
}

/** Validation loss (the training loss function on the eval rows) and the task's metrics. */
export function evaluateModel(model: tf.LayersModel, evalSet: EvalSet, config: ResolvedConfig): { valLoss: number; metrics: Record<string, number> } {
  if (evalSet.rows === 0) return { valLoss: Number.NaN, metrics: {} };
  const predictions = predict(model, evalSet);
  const metrics = evaluateAll(config.model.task, evalSet.y, predictions);
  const { name } = lossFunction(config);
  const valLoss = name === 'mae' ? metrics.mae! : name === 'mse' ? metrics.mse! : metrics.logloss!;
  return { valLoss, metrics };
}

function weightBytes(model: tf.LayersModel): Uint8Array {
  const parts = model.getWeights().map((w) => new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Loads the newest checkpoint of a run that verifies; a corrupted one is reported and skipped. */
async function newestGoodCheckpoint(db: Registry, artifactsDir: string, runId: string, log: Logger): Promise<{ row: Checkpoint; loaded: LoadedCheckpoint } | undefined> {
  const rows = await listRunCheckpoints(db, runId);
  for (const row of rows.reverse()) {
    try {
      return { row, loaded: await loadCheckpoint(db, artifactsDir, row) };
    } catch (error) {
      if (!(error instanceof CorruptDirError)) throw error;
      log.error({ run: runId, checkpoint: row.id, err: error.message }, 'checkpoint failed verification; falling back to the previous one');
    }
  }
  return undefined;
}

/**
 * Training examples available to a new run, for its effective stop point: exact for the
 * lineage's first run (counted when the lineage started), else estimated from the row
 * counts recorded at registration; 0 when unknown.
 */
async function examplesAvailable(db: Registry, lineage: Lineage, partitions: readonly TrainingPartition[], evalFraction: number, fromCheckpoint: boolean): Promise<number> {
  const firstRun = !fromCheckpoint && !(await db.selectFrom('runs').select('id').where('lineage_id', '=', lineage.id).executeTakeFirst());
  if (firstRun) return Number(lineage.train_examples);
  if (!partitions.every((p) => p.rows !== null)) return 0;
  return Math.round(partitions.reduce((n, p) => n + p.rows!, 0) * (1 - evalFraction));
}

interface StartPoint {
  run: Run;
  lineage: Lineage;
  loaded: LoadedCheckpoint | undefined;
  /** True when the loaded state continues this same run (resume), false for a new run's base. */
  continuing: boolean;
  targetEpochs: number;
}

/** `resumed`: the run to continue (options.resumeRunId's row), read once by the caller. */
async function startPoint(options: TrainRunOptions, resumed: Run | undefined, partitions: TrainingPartition[], evalPartitions: TrainingPartition[], backend: string): Promise<StartPoint> {
  const { db, config, log } = options;
  if (resumed) {
    const run = resumed;
    if (run.status !== 'running') throw new UsageError(`run ${run.id} is ${run.status}; only an unfinished run can be resumed`);
    const lineage = await getLineage(db, run.lineage_id);
    const newest = await newestGoodCheckpoint(db, config.artifactsDir, run.id, log);
    let loaded = newest?.loaded;
    // Killed before its first checkpoint, a run starts again from its base (or from scratch).
    const continuing = loaded !== undefined;
    if (!loaded && run.base_checkpoint_id) loaded = await loadCheckpoint(db, config.artifactsDir, await getCheckpoint(db, run.base_checkpoint_id));
    log.info({ run: run.id, fromStep: loaded?.state.globalStep ?? 0 }, 'resuming run');
    return { run, lineage, loaded, continuing, targetEpochs: run.target_virtual_epochs ?? lineage.num_checkpoints };
  }
  const lineage = await ensureLineage(db, config, partitions, log);
  let loaded: LoadedCheckpoint | undefined;
  if (options.fromCheckpointId) {
    const base = await getCheckpoint(db, options.fromCheckpointId);
    if (base.lineage_id !== lineage.id) throw new UsageError(`checkpoint ${base.id} belongs to another lineage`);
    loaded = await loadCheckpoint(db, config.artifactsDir, base);
  }
  const startEpoch = loaded?.state.virtualEpoch ?? 0;
  const targetEpochs = startEpoch + (options.virtualEpochs ?? lineage.num_checkpoints);
  const examples = await examplesAvailable(db, lineage, partitions, config.training.evalFraction, loaded !== undefined);
  // The run and its partition roles in one transaction: a run resumed after a crash must
  // find the partitions it started with.
  const roles = (runId: string) => [
    ...partitions.map((p) => ({ run_id: runId, partition_id: p.id, role: p.replay ? ('replay' as const) : ('train' as const) })),
    ...evalPartitions.map((p) => ({ run_id: runId, partition_id: p.id, role: 'eval' as const })),
  ];
  const run = await db.transaction().execute(async (trx) => {
    const created = await createRun(trx, {
      lineage_id: lineage.id,
      job_id: options.jobId ?? null,
      kind: options.kind ?? (loaded ? 'manual' : 'initial'),
      seed: config.training.seed,
      backend,
      config: { training: config.training, model: config.model, columns: config.columns, retrain: config.retrain },
      base_checkpoint_id: options.fromCheckpointId ?? null,
      base_selection: options.baseSelection ? JSON.stringify(options.baseSelection) : null,
      data_watermark: partitions.length ? partitions.reduce((max, p) => (BigInt(p.id) > BigInt(max) ? p.id : max), partitions[0]!.id) : null,
      target_virtual_epochs: targetEpochs,
      examples_available: examples || null,
      effective_stop_point: examples ? effectiveStopPoint(lineage.steps_per_epoch, { batchSize: lineage.batch_size, numCheckpoints: lineage.num_checkpoints }, examples) : null,
    });
    const rows = roles(created.id);
    if (rows.length) await trx.insertInto('run_partitions').values(rows).execute();
    return created;
  });
  log.info({ run: run.id, lineage: lineage.id, base: options.fromCheckpointId ?? null, targetEpochs }, 'training run started');
  return { run, lineage, loaded, continuing: false, targetEpochs };
}

/** Errors of the machine rather than of the run: the run is left resumable. */
function isEnvironmentError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO' || code === 'EROFS' || code === 'EMFILE' || code === 'ENFILE';
}

/** Trains one run to its end (or to an abort) and returns what it produced. */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { db, config, signal } = options;
  if (config.columns.features.length === 0 || !config.columns.label) {
    throw new UsageError('columns.features and columns.label must be set in the configuration to train');
  }
  const backend = await initBackend(config.training.backend, options.log);
  const loss = lossFunction(config);
  const resumed = options.resumeRunId ? await getRun(db, options.resumeRunId) : undefined;
  let partitions: TrainingPartition[];
  let evalPartitions: TrainingPartition[];
  if (!resumed) {
    partitions = options.partitions ?? (await registeredPartitions(db, config.dataDir));
    evalPartitions = options.evalPartitions ?? partitions;
  } else {
    // A resumed run reads exactly the partitions it started with, in the same roles,
    // whatever arrived since.
    const registered = await registeredPartitions(db, config.dataDir);
    const roles = await db.selectFrom('run_partitions').select(['partition_id', 'role']).where('run_id', '=', resumed.id).execute();
    const runConfig = resumed.config as { retrain?: { replayFraction?: number } };
    const withRole = (role: string) => new Set(roles.filter((r) => r.role === role).map((r) => r.partition_id));
    const [train, replay, evaluated] = [withRole('train'), withRole('replay'), withRole('eval')];
    partitions = registered
      .filter((p) => train.has(p.id) || replay.has(p.id))
      .map((p) => (replay.has(p.id) ? { ...p, replay: true, sample: runConfig.retrain?.replayFraction ?? 1 } : p));
    evalPartitions = registered.filter((p) => evaluated.has(p.id));
  }
  // One canonical order (path order, as registeredPartitions gives), whatever order the
  // caller listed them in: a resumed run rebuilds the list from the registry and must
  // stream the same batches.
  const byPath = (a: TrainingPartition, b: TrainingPartition): number => comparePaths(a.path, b.path);
  partitions = [...partitions].sort(byPath);
  evalPartitions = [...evalPartitions].sort(byPath);
  const start = await startPoint(options, resumed, partitions, evalPartitions, backend);
  const { run, lineage, targetEpochs } = start;
  const log = options.log.child({ lineage: lineage.id, run: run.id });
  await sweepCheckpointFiles(db, config.artifactsDir, lineage.id, log);

  const stats = lineage.feature_stats as unknown as FeatureStats;
  const columns = columnSpec(config);
  const split = splitSpec(config);
  const trainable = await buildModel(config, columns.features.length);
  const optimizer = tf.train.adam(config.training.learningRate);
  const adam = adamInternals(optimizer);
  const loaded = start.loaded;
  if (loaded) {
    restoreModelWeights(trainable.model, loaded.weights);
    await restoreOptimizer(optimizer, loaded);
    tf.dispose([...loaded.weights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
  }

  // The state this run continues from. A new run from a base checkpoint keeps its step,
  // epoch and optimizer, but gets fresh early-stopping counters and a fresh data cursor.
  const carried = loaded?.state;
  const state: TrainingState = {
    format: 1,
    lineageId: lineage.id,
    runId: run.id,
    globalStep: carried?.globalStep ?? 0,
    virtualEpoch: carried?.virtualEpoch ?? 0,
    stepInEpoch: start.continuing ? carried!.stepInEpoch : 0,
    stepsPerEpoch: lineage.steps_per_epoch,
    learningRate: config.training.learningRate,
    adam: { beta1: adam.beta1, beta2: adam.beta2, epsilon: adam.epsilon, accBeta1: 0, accBeta2: 0 },
    earlyStopping: start.continuing ? carried!.earlyStopping : initialEarlyStopping(),
    featureStats: stats,
    cursor: start.continuing ? carried!.cursor : { pass: 0, offset: 0 },
    seed: config.training.seed,
    epochLoss: start.continuing ? carried!.epochLoss : { sum: 0, count: 0 },
    trainLoss: carried?.trainLoss ?? null,
    valLoss: carried?.valLoss ?? null,
    metrics: carried?.metrics ?? {},
    invalidRows: start.continuing ? carried!.invalidRows : 0,
  };

  const evalSet = options.evalSet && !options.resumeRunId ? options.evalSet : await loadEvalSet(evalPartitions, columns, split, stats, config.training.evalMaxRows);
  const counts = { rows: 0, invalid: state.invalidRows };
  const batches = prefetchedBatches(partitions, { columns, split, stats, batchSize: lineage.batch_size, shuffleBuffer: config.training.shuffleBuffer, counts }, state.cursor);
  const dim = columns.features.length;
  const trainStep = new TrainStep(trainable, optimizer, loss.fn, { batchSize: lineage.batch_size, dim }, state.epochLoss);
  let lastLogged: number | null = null;
  let pendingPoints: Array<{ step: number; loss: number }> = [];
  let lastCheckpointStep = -1;
  let lastCheckpointId: string | null = null;
  let stepsThisProcess = 0;
  const metrics = options.metrics;
  const throughputMark = { steps: 0, at: performance.now() };
  /** Steps and throughput since the last report: at logged steps and checkpoints, never per step. */
  const reportThroughput = (): void => {
    if (!metrics) return;
    const now = performance.now();
    const steps = stepsThisProcess - throughputMark.steps;
    if (steps <= 0) return;
    metrics.trainStepsTotal.inc(steps);
    metrics.trainExamplesPerSecond.set((steps * lineage.batch_size) / ((now - throughputMark.at) / 1000));
    throughputMark.steps = stepsThisProcess;
    throughputMark.at = now;
  };

  const leaseLost = options.leaseLost ?? (() => false);
  const retryWrites = options.retryWrites ?? (<T,>(_what: string, write: () => Promise<T>) => write());
  const checkpoint = async (): Promise<Checkpoint | undefined> => {
    if (leaseLost()) return undefined;
    state.epochLoss = trainStep.epochLoss();
    state.adam.accBeta1 = adam.accBeta1.dataSync()[0]!;
    state.adam.accBeta2 = adam.accBeta2.dataSync()[0]!;
    state.invalidRows = counts.invalid;
    reportThroughput(); // before the write, so the checkpoint's time is not counted as training
    const uri = checkpointUri(lineage.id, run.id, state.globalStep);
    const started = performance.now();
    const written = await writeCheckpoint(path.join(config.artifactsDir, uri), trainable.model, optimizer, state);
    const points = pendingPoints;
    const epochEnd = state.stepInEpoch === 0 && state.virtualEpoch > 0 && state.trainLoss !== null;
    const row = await retryWrites('recording the checkpoint', async () => {
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
      return recordCheckpoint(db, config.artifactStore, checkpointRow, written.files);
    });
    pendingPoints = [];
    lastCheckpointStep = state.globalStep;
    lastCheckpointId = row.id;
    metrics?.checkpointWriteSeconds.observe((performance.now() - started) / 1000);
    throughputMark.at = performance.now(); // the next throughput figure starts after the write
    metrics?.checkpointBytes.set(written.bytes);
    metrics?.virtualEpoch.set(state.virtualEpoch);
    if (state.valLoss !== null && Number.isFinite(state.valLoss)) metrics?.valLoss.set(state.valLoss);
    log.info(
      { checkpoint: row.id, step: state.globalStep, virtualEpoch: state.virtualEpoch, trainLoss: state.trainLoss, valLoss: state.valLoss, ms: Math.round(performance.now() - started), bytes: written.bytes },
      'checkpoint written',
    );
    await retain();
    return row;
  };
  /**
   * Retention after each checkpoint, and once more when the run ends: a kill between a
   * checkpoint's row and its retention must not leave more checkpoints (hence other base
   * candidates for the next retrain) than a run that was never interrupted.
   */
  const retain = (): Promise<string[]> =>
    retryWrites('applying checkpoint retention', async () => {
      const protectedSteps = [...(state.earlyStopping.bestStep === null ? [] : [state.earlyStopping.bestStep]), ...((await options.protectSteps?.(run.id)) ?? [])];
      return applyRetention(db, config.artifactsDir, run.id, config.training.retention, protectedSteps, log);
    });

  const check = (): void => {
    const { valLoss, metrics } = evaluateModel(trainable.model, evalSet, config);
    state.valLoss = valLoss;
    state.metrics = metrics;
    state.earlyStopping = updateEarlyStopping(state.earlyStopping, config.training.earlyStopping, valLoss, { step: state.globalStep, virtualEpoch: state.virtualEpoch });
  };

  const report = (): void =>
    options.onProgress?.({ runId: run.id, globalStep: state.globalStep, virtualEpoch: state.virtualEpoch, stepInEpoch: state.stepInEpoch, stepsPerEpoch: state.stepsPerEpoch, targetEpochs, loss: lastLogged });

  let interrupted = false;
  try {
    while (state.virtualEpoch < targetEpochs && !state.earlyStopping.stopped) {
      if (signal.aborted || (options.stopAfterSteps !== undefined && stepsThisProcess >= options.stopAfterSteps)) {
        interrupted = true;
        break;
      }
      const next = await batches.next();
      if (next.done) throw new Error('the training stream ended');
      const { x, y, cursor } = next.value;
      const readBack = (state.globalStep + 1) % config.training.logEvery === 0;
      const batchLoss = trainStep.run(x, y, state.globalStep, readBack);
      if (batchLoss !== null) {
        lastLogged = batchLoss;
        pendingPoints.push({ step: state.globalStep + 1, loss: batchLoss });
        metrics?.trainLoss.set(batchLoss);
      }
      state.globalStep += 1;
      state.stepInEpoch += 1;
      state.cursor = cursor;
      stepsThisProcess += 1;
      if (batchLoss !== null) reportThroughput();

      if (state.stepInEpoch === state.stepsPerEpoch) {
        const epochLoss = trainStep.epochLoss();
        state.trainLoss = epochLoss.sum / epochLoss.count;
        if (!Number.isFinite(state.trainLoss)) throw new Error(`training loss became ${state.trainLoss} in virtual epoch ${state.virtualEpoch + 1}: the run fails (check the data and the learning rate)`);
        state.virtualEpoch += 1;
        state.stepInEpoch = 0;
        trainStep.resetEpoch();
        check();
        await checkpoint();
      } else if (config.training.checkpointEvery > 0 && state.globalStep % config.training.checkpointEvery === 0) {
        check();
        await checkpoint();
      }
      if (state.globalStep % 10 === 0) report();
    }

    if (interrupted) {
      if (leaseLost()) {
        log.warn({ step: state.globalStep }, 'training stopped: the lease was lost, another worker continues this run');
        return result('interrupted');
      }
      if (lastCheckpointStep !== state.globalStep && state.globalStep > 0) await checkpoint();
      log.info({ step: state.globalStep }, 'training interrupted; checkpoint written, the run can be resumed');
      report();
      return result('interrupted');
    }

    // The end: optionally go back to the best checkpoint, then close the run.
    await retain();
    const checkpoints = await listRunCheckpoints(db, run.id);
    let resultId = lastCheckpointId ?? checkpoints.at(-1)?.id ?? null;
    const bestStep = state.earlyStopping.bestStep;
    if (config.training.earlyStopping.restoreBestWeights && bestStep !== null && bestStep !== state.globalStep) {
      const best = checkpoints.find((c) => Number(c.global_step) === bestStep);
      if (best) {
        const bestLoaded = await loadCheckpoint(db, config.artifactsDir, best);
        restoreModelWeights(trainable.model, bestLoaded.weights);
        tf.dispose([...bestLoaded.weights, ...bestLoaded.optimizerWeights.map((w) => w.tensor)]);
        state.valLoss = best.val_loss;
        state.trainLoss = best.train_loss;
        state.metrics = best.metrics;
        resultId = best.id;
        log.info({ checkpoint: best.id, step: bestStep }, 'restored the best weights');
      }
    }
    await retryWrites('finishing the run', async () => {
      await db.updateTable('runs').set({ result_checkpoint_id: resultId, invalid_rows: counts.invalid }).where('id', '=', run.id).execute();
      await finishRun(db, run.id, 'succeeded');
    });
    log.info({ step: state.globalStep, virtualEpoch: state.virtualEpoch, earlyStopped: state.earlyStopping.stopped, valLoss: state.valLoss, metrics: state.metrics }, 'training run finished');
    report();
    return result('succeeded', resultId);
  } catch (error) {
    if (isEnvironmentError(error)) {
      // Disk full, quota, I/O error: not the run's fault. Its newest checkpoint is intact
      // (written atomically), so it stays resumable once the machine is fixed.
      log.error({ err: (error as Error).message, step: state.globalStep }, 'training stopped by the machine; the run stays resumable from its newest checkpoint');
    } else if (!leaseLost()) await finishRun(db, run.id, 'failed', (error as Error).message).catch(() => {});
    throw error;
  } finally {
    await batches.return(undefined);
    trainStep.dispose();
    optimizer.dispose();
    trainable.model.dispose();
  }

  function result(status: 'succeeded' | 'interrupted', resultCheckpointId: string | null = lastCheckpointId): TrainRunResult {
    return {
      runId: run.id,
      status,
      globalStep: state.globalStep,
      virtualEpoch: state.virtualEpoch,
      earlyStopped: state.earlyStopping.stopped,
      resultCheckpointId,
      trainLoss: state.trainLoss,
      valLoss: state.valLoss,
      metrics: state.metrics,
      weightBytes: weightBytes(trainable.model),
    };
  }
}
