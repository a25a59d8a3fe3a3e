// One training run: virtual epochs of a fixed number of steps, a full-state checkpoint at
// the end of each, early stopping on validation loss, and exact resume.
//
// Hot path (one step): the batch into tensors, forward and backward (the built-in MLP's
// without tfjs's tape, model/mlp-gradients.ts; any other model inside optimizer.minimize),
// one Adam update, and one add into an on-device loss accumulator. The loss is read back
// only every `logEvery` steps and at checkpoints (the tape-free path reads the batch's
// predictions, one float a row, to compute the loss's gradient: on the CPU backends freshet
// runs on a read costs a copy, not a stall).
import type { ResolvedConfig } from '../../core/config.ts';
import { coerceError, ConfigError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { finishRun, getRun, raiseRunTarget, type Lineage, type Registry, type Run, type RunKind } from '../../registry/index.ts';
import { initBackend, tf } from '../backend.ts';
import { adamInternals, restoreModelWeights, restoreOptimizer, type TrainingState } from '../checkpoints/checkpoint-io.ts';
import { sweepCheckpointFiles } from '../checkpoints/retention.ts';
import { evaluateModel, weightBytes } from '../model/evaluate.ts';
import { TrainStep } from '../model/train-step.ts';
import { createAdam } from '../model/fused-adam.ts';
import { buildModel } from '../model/trainable-model.ts';
import { inputLayout } from '../model/input-layout.ts';
import { encodeEvalSet, loadEvalSet, type EvalSet } from '../stream/eval-set.ts';
import { type DataCursor, type FeatureStats, type TrainingPartition } from '../stream/stream-spec.ts';
import { prefetchedBatches, startedNow } from '../stream/prefetch.ts';
import { registeredPartitions } from './lineage.ts';
import { trainingSpec } from './training-spec.ts';
import { resumeRun, startNewRun, type StartPoint } from './run-start.ts';
import { streamCacheDir } from './stream-cache-dir.ts';
import { runVocabularies } from './run-vocabularies.ts';
import { combineObservers, type TrainObserver } from './train-observer.ts';
import { CheckpointWriter } from './checkpoint-writer.ts';
import { endRun } from './run-end.ts';
import { ThroughputMeter } from './throughput-meter.ts';
import { Evaluator } from './evaluator.ts';
import { LossLog } from './loss-log.ts';
import { advanceStep, checkpointDue, closeEpoch, initialState, streamStart } from './run-state.ts';
import { extendsRun } from './run-extension.ts';

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
  /** Partitions kept out of training and validation for the gate (eval.holdout newest), recorded as role `gate`. */
  gatePartitions?: TrainingPartition[];
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
  /** Who listens to the run (metrics, a progress bar, the job's lease progress); absent ones are skipped. */
  observers?: ReadonlyArray<TrainObserver | undefined>;
  /** Stop (as if aborted) after this many steps in this process; for crash and resume tests. */
  stopAfterSteps?: number;
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

/** Errors of the machine rather than of the run: the run is left resumable. */
function isEnvironmentError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO' || code === 'EROFS' || code === 'EMFILE' || code === 'ENFILE';
}

/** The model and its optimizer, with the start point's full state put back. */
async function restoredModel(config: ResolvedConfig, stats: FeatureStats, loaded: StartPoint['loaded']) {
  const trainable = await buildModel(config, inputLayout(stats));
  const optimizer = createAdam(config.training.learningRate);
  const adam = adamInternals(optimizer);
  if (loaded) {
    restoreModelWeights(trainable.model, loaded.weights);
    await restoreOptimizer(optimizer, loaded);
    tf.dispose([...loaded.weights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
  }
  return { trainable, optimizer, adam };
}

/** What the step loop works with: built once per run by trainRun. */
interface RunLoop {
  config: ResolvedConfig;
  state: TrainingState;
  /** The virtual epoch the run trains to; raised one at a time while a lineage's first run still descends (run-extension.ts). */
  targetEpochs: number;
  /** Whether to go on past targetEpochs, and the recording of a raised target. */
  extension: { mayExtend: (state: TrainingState, targetEpochs: number) => boolean; raise: (targetEpochs: number) => Promise<void> };
  batches: AsyncGenerator<{ x: Float32Array; y: Float32Array; cursor: DataCursor }, void, undefined>;
  trainStep: TrainStep;
  lossLog: LossLog;
  evaluator: Evaluator;
  checkpoints: CheckpointWriter;
  throughput: ThroughputMeter;
  observer: ReturnType<typeof combineObservers>;
  earlySteps: ReadonlySet<number>;
  report: () => void;
  /** True when the run must stop before its next step (an abort, or stopAfterSteps reached). */
  shouldStop: () => boolean;
}

/**
 * The hot path: one batch, one forward/backward/Adam step, one add into the
 * on-device loss accumulator; the loss read back only at logged steps and checkpoints.
 * Returns true when the run was interrupted, false when it reached its target or stopped early.
 */
async function trainSteps(loop: RunLoop): Promise<boolean> {
  const { config, state, trainStep, lossLog, evaluator, checkpoints, throughput, observer } = loop;
  for (;;) {
    if (state.earlyStopping.stopped) break;
    if (state.virtualEpoch >= loop.targetEpochs) {
      if (!loop.extension.mayExtend(state, loop.targetEpochs)) break;
      loop.targetEpochs += 1;
      await loop.extension.raise(loop.targetEpochs);
    }
    if (loop.shouldStop()) return true;
    const next = await loop.batches.next();
    if (next.done) throw new Error('the training stream ended');
    const { x, y, cursor } = next.value;
    const step = state.globalStep + 1;
    trainStep.run(x, y, state.globalStep, false);
    const loss = lossLog.readsBackAt(step) ? lossLog.point(trainStep.epochLoss()) : null;
    if (loss !== null) {
      checkpoints.addLossPoint(step, loss);
      observer.onLoggedLoss({ runId: state.runId, globalStep: step, loss });
    }
    advanceStep(state, cursor);
    throughput.step();
    if (loss !== null) throughput.report();
    const due = checkpointDue(state, config.training.checkpointEvery, loop.earlySteps);
    if (due === 'epoch-end') {
      closeEpoch(state, trainStep.epochLoss());
      trainStep.resetEpoch();
      lossLog.resetEpoch();
    }
    if (due === 'early') evaluator.measure();
    else if (due !== null) evaluator.check();
    if (due !== null) await checkpoints.write();
    if (state.globalStep % 10 === 0) loop.report();
  }
  return false;
}

/**
 * A first run's way past its nominal end (run-extension.ts decides from the checkpointed
 * state); raising the target is recorded on the run before the extra virtual epoch, so a
 * resume decides again from the same state. An asked-for count (`--epochs`) is kept.
 */
function firstRunExtension(
  context: { db: Registry; config: ResolvedConfig; run: Run; lineage: Lineage; state: TrainingState; log: Logger; retryWrites: NonNullable<TrainRunOptions['retryWrites']>; asked: boolean },
  target: { current: number },
) {
  const { db, config, run, lineage, state, log, retryWrites } = context;
  return {
    mayExtend: (at: TrainingState, targetEpochs: number) => extendsRun(at, { firstRun: run.kind === 'initial', targetEpochs, nominalEpochs: lineage.num_checkpoints, extraEpochs: context.asked ? 0 : config.training.extraEpochs }),
    raise: async (raised: number) => {
      target.current = raised;
      await retryWrites('raising the run\'s target', () => raiseRunTarget(db, run.id, raised));
      log.info({ virtualEpoch: state.virtualEpoch, targetEpochs: raised, valLoss: state.valLoss, gain: state.earlyStopping.gain }, 'the first run still descends at its last virtual epoch: one more');
    },
  };
}

/** Trains one run to its end (or to an abort) and returns what it produced. */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { db, config, signal } = options;
  if ((config.columns.features.length === 0 && config.columns.categorical.length === 0) || !config.columns.label) {
    throw new ConfigError('columns.features and columns.label must be set in the configuration to train (columns.categorical may stand in for columns.features)');
  }
  const backend = await initBackend(config.training.backend, options.log);
  const { loss, columns, split } = trainingSpec(config);
  const startNew = async () => {
    const given = options.partitions ?? (await registeredPartitions(db, config));
    return startNewRun(db, config, options, { partitions: given, evalPartitions: options.evalPartitions ?? given, gatePartitions: options.gatePartitions }, backend, options.log);
  };
  const start = options.resumeRunId ? await resumeRun(db, config, await getRun(db, options.resumeRunId), options.log) : await startNew();
  const { run, lineage, targetEpochs, partitions, evalPartitions } = start;
  const log = options.log.child({ lineage: lineage.id, run: run.id });
  await sweepCheckpointFiles(db, config.artifactsDir, lineage.id, log);

  // What the run reads its data through: the lineage's statistics, with vocabularies grown from the base's.
  const { stats, loaded } = await runVocabularies(db, config, start, log);
  // The training stream starts before the model is restored and the validation rows are
  // read, so that its worker parses and shuffles meanwhile (prefetch.ts, startedNow).
  const from = streamStart(start);
  const counts = { rows: 0, invalid: from.invalidRows };
  const cacheDir = streamCacheDir(config.artifactsDir, run.id);
  const batches = startedNow(prefetchedBatches(partitions, { columns, split, stats, batchSize: lineage.batch_size, shuffleBuffer: config.training.shuffleBuffer, counts, cacheDir }, from.cursor));
  let restored: Awaited<ReturnType<typeof restoredModel>> | undefined;
  let evalSet: EvalSet;
  try {
    restored = await restoredModel(config, stats, loaded);
    // Validation rows read through this run's vocabularies once (categorical values arrive raw).
    evalSet = encodeEvalSet(options.evalSet && !options.resumeRunId ? options.evalSet : await loadEvalSet(evalPartitions, columns, split, stats, config.training.evalMaxRows), stats.categorical);
  } catch (error) {
    await batches.return(undefined);
    restored?.optimizer.dispose();
    restored?.trainable.model.dispose();
    throw error;
  }
  const { trainable, optimizer, adam } = restored;
  const state = initialState(start, config.training, adam, stats);
  const trainStep = new TrainStep(trainable, optimizer, loss, { batchSize: lineage.batch_size }, state.epochLoss);
  const earlySteps = new Set(lineage.early_checkpoint_steps);
  const lossLog = new LossLog(config.training.logEvery, earlySteps, state.epochLoss);
  const observer = combineObservers(log, ...(options.observers ?? []));
  const throughput = new ThroughputMeter(observer, lineage.batch_size);
  const leaseLost = options.leaseLost ?? (() => false);
  const retryWrites = options.retryWrites ?? (<T,>(_what: string, write: () => Promise<T>) => write());
  const checkpoints = new CheckpointWriter({ db, config, run, lineage, model: trainable.model, optimizer, adam, trainStep, state, counts, throughput, observer, log, leaseLost, retryWrites, protectSteps: options.protectSteps });
  const evaluator = new Evaluator(() => evaluateModel(trainable.model, evalSet, config), config.training.earlyStopping, state);
  const target = { current: targetEpochs };
  const extension = firstRunExtension({ db, config, run, lineage, state, log, retryWrites, asked: options.virtualEpochs !== undefined }, target);
  const report = (): void =>
    observer.onProgress({ runId: run.id, globalStep: state.globalStep, virtualEpoch: state.virtualEpoch, stepInEpoch: state.stepInEpoch, stepsPerEpoch: state.stepsPerEpoch, targetEpochs: target.current, loss: lossLog.last });
  const shouldStop = () => signal.aborted || (options.stopAfterSteps !== undefined && throughput.steps >= options.stopAfterSteps);
  const result = (status: TrainRunResult['status'], resultCheckpointId: string | null = checkpoints.lastId): TrainRunResult => ({
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
  });

  try {
    const interrupted = await trainSteps({ config, state, targetEpochs, extension, batches, trainStep, lossLog, evaluator, checkpoints, throughput, observer, earlySteps, report, shouldStop });
    if (interrupted && leaseLost()) {
      log.warn({ step: state.globalStep }, 'training stopped: the lease was lost, another worker continues this run');
      return result('interrupted');
    }
    if (interrupted) {
      if (checkpoints.lastStep !== state.globalStep && state.globalStep > 0) await checkpoints.write();
      log.info({ step: state.globalStep }, 'training interrupted; checkpoint written, the run can be resumed');
      report();
      return result('interrupted');
    }
    // The end: for a retrain maybe the average of its last checkpoints, else optionally the best one; then close the run.
    const resultId = await endRun({ db, config, run, model: trainable.model, state, checkpoints, measure: () => evaluator.measure(), invalidRows: counts.invalid, retryWrites, log });
    report();
    return result('succeeded', resultId);
  } catch (error) {
    if (isEnvironmentError(error)) {
      // Disk full, quota, I/O error: not the run's fault. Its newest checkpoint is intact
      // (written atomically), so it stays resumable once the machine is fixed.
      log.error({ err: coerceError(error).message, step: state.globalStep }, 'training stopped by the machine; the run stays resumable from its newest checkpoint');
    } else if (!leaseLost()) await finishRun(db, run.id, 'failed', { error: coerceError(error).message }).catch(() => {});
    throw error;
  } finally {
    await batches.return(undefined);
    trainStep.dispose();
    optimizer.dispose();
    trainable.model.dispose();
  }
}
