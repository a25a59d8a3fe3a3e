// Where a run starts: a resumed run continues from its newest good checkpoint with the
// partitions it started with; a new run creates its row (with its partition roles) and
// starts from a base checkpoint's full state, or from scratch.
import type { ResolvedConfig } from '../../core/config.ts';
import { ConflictError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import {
  createRunWithPartitions,
  getCheckpoint,
  getLineage,
  lineageHasRuns,
  listRunCheckpoints,
  runPartitionRoles,
  type Checkpoint,
  type Lineage,
  type Registry,
  type Run,
  type RunKind,
} from '../../registry/index.ts';
import { CorruptDirError } from '../checkpoints/atomic-dir.ts';
import type { LoadedCheckpoint } from '../checkpoints/checkpoint-io.ts';
import { loadCheckpoint, type ArtifactLocations } from '../checkpoints/checkpoint-store.ts';
import type { TrainingPartition } from '../stream/stream-spec.ts';
import { comparePaths, ensureLineage, registeredPartitions } from './lineage.ts';
import { effectiveStopPoint } from './virtual-epochs.ts';

export interface NewRunRequest {
  kind?: RunKind | undefined;
  jobId?: string | undefined;
  fromCheckpointId?: string | undefined;
  virtualEpochs?: number | undefined;
  baseSelection?: Record<string, unknown> | undefined;
}

export interface StartPoint {
  run: Run;
  lineage: Lineage;
  loaded: LoadedCheckpoint | undefined;
  /** True when the loaded state continues this same run (resume), false for a new run's base. */
  continuing: boolean;
  targetEpochs: number;
  /** Training partitions (replayed ones marked) and validation partitions, in path order. */
  partitions: TrainingPartition[];
  evalPartitions: TrainingPartition[];
}

/** One canonical order, path order, whatever order a caller listed them in: a resumed run must stream the same batches. */
function inPathOrder(partitions: readonly TrainingPartition[]): TrainingPartition[] {
  return [...partitions].sort((a, b) => comparePaths(a.path, b.path));
}

/** Loads the newest checkpoint of a run that verifies; a corrupted one is reported and skipped. */
async function newestGoodCheckpoint(db: Registry, locations: ArtifactLocations, runId: string, log: Logger): Promise<LoadedCheckpoint | undefined> {
  const rows: Checkpoint[] = await listRunCheckpoints(db, runId);
  for (const row of rows.reverse()) {
    try {
      return await loadCheckpoint(db, locations, row);
    } catch (error) {
      if (!(error instanceof CorruptDirError)) throw error;
      log.error({ run: runId, checkpoint: row.id, err: error.message }, 'checkpoint failed verification; falling back to the previous one');
    }
  }
  return undefined;
}

/**
 * The partitions a run read, in their roles, whatever arrived since: what a resumed run
 * reads again, and what its gate scores on (gate) and takes the naive baselines from (partitions).
 */
export async function runPartitions(db: Registry, config: ResolvedConfig, run: Run): Promise<{ partitions: TrainingPartition[]; evalPartitions: TrainingPartition[]; gatePartitions: TrainingPartition[] }> {
  const registered = await registeredPartitions(db, config);
  const { train, replay, eval: evaluated, gate } = await runPartitionRoles(db, run.id);
  const replayFraction = (run.config as { retrain?: { replayFraction?: number } }).retrain?.replayFraction ?? 1;
  return {
    partitions: registered.filter((p) => train.has(p.id) || replay.has(p.id)).map((p) => (replay.has(p.id) ? { ...p, replay: true, sample: replayFraction } : p)),
    evalPartitions: registered.filter((p) => evaluated.has(p.id)),
    gatePartitions: registered.filter((p) => gate.has(p.id)),
  };
}

/** Continues `run` (which must be unfinished) from its newest good checkpoint. */
export async function resumeRun(db: Registry, config: ResolvedConfig, run: Run, log: Logger): Promise<StartPoint> {
  if (run.status !== 'running') throw new ConflictError(`run ${run.id} is ${run.status}; only an unfinished run can be resumed`);
  const lineage = await getLineage(db, run.lineage_id);
  let loaded = await newestGoodCheckpoint(db, config, run.id, log);
  // Killed before its first checkpoint, a run starts again from its base (or from scratch).
  const continuing = loaded !== undefined;
  if (!loaded && run.base_checkpoint_id) loaded = await loadCheckpoint(db, config, await getCheckpoint(db, run.base_checkpoint_id));
  const { partitions, evalPartitions } = await runPartitions(db, config, run);
  log.info({ run: run.id, fromStep: loaded?.state.globalStep ?? 0 }, 'resuming run');
  return { run, lineage, loaded, continuing, targetEpochs: run.target_virtual_epochs ?? lineage.num_checkpoints, partitions: inPathOrder(partitions), evalPartitions: inPathOrder(evalPartitions) };
}

/**
 * Training examples available to a new run, for its effective stop point: exact for the
 * lineage's first run (counted when the lineage started), else estimated from the row
 * counts recorded at registration; 0 when unknown.
 */
async function examplesAvailable(db: Registry, lineage: Lineage, partitions: readonly TrainingPartition[], evalFraction: number, fromCheckpoint: boolean): Promise<number> {
  if (!fromCheckpoint && !(await lineageHasRuns(db, lineage.id))) return Number(lineage.train_examples);
  if (!partitions.every((p) => p.rows !== null)) return 0;
  return Math.round(partitions.reduce((n, p) => n + p.rows!, 0) * (1 - evalFraction));
}

/** Creates a new run of the configured lineage (started now if it does not exist) on `partitions`. */
export async function startNewRun(
  db: Registry,
  config: ResolvedConfig,
  request: NewRunRequest,
  given: { partitions: TrainingPartition[]; evalPartitions: TrainingPartition[]; gatePartitions?: TrainingPartition[] | undefined },
  backend: string,
  log: Logger,
): Promise<StartPoint> {
  const partitions = inPathOrder(given.partitions);
  const evalPartitions = inPathOrder(given.evalPartitions);
  const lineage = await ensureLineage(db, config, partitions, log);
  let loaded: LoadedCheckpoint | undefined;
  if (request.fromCheckpointId) {
    const base = await getCheckpoint(db, request.fromCheckpointId);
    if (base.lineage_id !== lineage.id) throw new ConflictError(`checkpoint ${base.id} belongs to another lineage`);
    loaded = await loadCheckpoint(db, config, base);
  }
  const startEpoch = loaded?.state.virtualEpoch ?? 0;
  const targetEpochs = startEpoch + (request.virtualEpochs ?? lineage.num_checkpoints);
  const examples = await examplesAvailable(db, lineage, partitions, config.training.evalFraction, loaded !== undefined);
  const roles = [
    ...partitions.map((p) => ({ partitionId: p.id, role: p.replay ? ('replay' as const) : ('train' as const) })),
    ...evalPartitions.map((p) => ({ partitionId: p.id, role: 'eval' as const })),
    // Recorded with the run so that the gate, even after a crash, scores on exactly these.
    ...(given.gatePartitions ?? []).map((p) => ({ partitionId: p.id, role: 'gate' as const })),
  ];
  const run = await createRunWithPartitions(
    db,
    {
      lineage_id: lineage.id,
      job_id: request.jobId ?? null,
      kind: request.kind ?? (loaded ? 'manual' : 'initial'),
      seed: config.training.seed,
      backend,
      config: { training: config.training, model: config.model, columns: config.columns, retrain: config.retrain },
      base_checkpoint_id: request.fromCheckpointId ?? null,
      base_selection: request.baseSelection ? JSON.stringify(request.baseSelection) : null,
      data_watermark: partitions.length ? partitions.reduce((max, p) => (BigInt(p.id) > BigInt(max) ? p.id : max), partitions[0]!.id) : null,
      target_virtual_epochs: targetEpochs,
      examples_available: examples || null,
      effective_stop_point: examples ? effectiveStopPoint(lineage.steps_per_epoch, { batchSize: lineage.batch_size, numCheckpoints: lineage.num_checkpoints }, examples) : null,
    },
    roles,
  );
  log.info({ run: run.id, lineage: lineage.id, base: request.fromCheckpointId ?? null, targetEpochs }, 'training run started');
  return { run, lineage, loaded, continuing: false, targetEpochs, partitions, evalPartitions };
}
