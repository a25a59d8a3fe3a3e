// The `retrain` job, end to end: plan (first model, or a retrain on the partitions the
// champion has not seen plus a replay window, the newest of them kept back as the gate's
// holdout), choose the base checkpoint, train, then the evaluation gate (candidate,
// champion and naive baselines on the holdout), then the serving export.
//
// Idempotent across attempts: a run this job started and did not finish is resumed from
// its newest checkpoint (the worker died or shut down); a run it finished is not repeated,
// only its gate decision is completed if it was missing; the gate decides once per run.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  adoptOrphanRun,
  chainPartitionIds,
  findLineageByName,
  getChampion,
  getCheckpoint,
  getRun,
  registryRetryPolicy,
  latestRunOfJob,
  type Job,
  type Promotion,
  type Registry,
  type Run,
} from '../registry/index.ts';
import { retryTransient } from '../core/retry.ts';
import {
  categoricalColumnValues,
  trainingSpec,
  predictCheckpoint,
  runPartitions,
  trainingWindowLabels,
  trainRun,
  type EvalSet,
  type TrainObserver,
  type TrainRunResult,
} from '../trainer/index.ts';
import { prePlateauStepsToKeep } from '../selection/index.ts';
import { resolvedMetric, runGate } from '../promotion/index.ts';
import { rowSpecs, rowsWithBaselines, windowBaselines } from './gate-baselines.ts';
import { mixSeed } from '../core/rng.ts';
import { planRun, type Plan } from './run-plan.ts';
import type { JobHandler } from '../queue/index.ts';
import { predictVersion, reconcileServing } from '../serving/index.ts';

export interface RetrainDependencies {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  /** Hears the training runs (the daemon's metrics). */
  observer?: TrainObserver | undefined;
  /** Each gate decision once recorded (`created`: false when an earlier attempt recorded it). */
  onDecision?: ((decision: { promotion: Promotion; created: boolean }) => void) | undefined;
}

/**
 * Scores the run's result, the champion and the naive baselines on the run's gate rows
 * (its `gate` partitions, every row; or, without them, the validation rows of its `eval`
 * partitions), decides, records the decision, exports.
 */
async function gate({ db, config, onDecision }: RetrainDependencies, run: Run, log: Logger, planned?: EvalSet): Promise<void> {
  if (!run.result_checkpoint_id) throw new Error(`run ${run.id} finished without a result checkpoint`);
  const candidateCheckpoint = await getCheckpoint(db, run.result_checkpoint_id);
    // Read again, not taken from the plan: a partition superseded while the run trained has new files on disk under
  // another id, and must not be scored as the one the run was planned on.
  const { partitions, evalPartitions, gatePartitions } = await runPartitions(db, config, run);
  const holdout = gatePartitions.length > 0 ? 'newest' : 'random';
  const { constants, fill } = windowBaselines(config, await trainingWindowLabels(config, partitions));
  // With per-row baselines (persistence…) the rows are read with their entity and baseline columns; else the plan's validation rows serve.
  const { set: gateSet, naiveRows } =
    holdout === 'newest'
      ? await rowsWithBaselines(db, config, run.lineage_id, gatePartitions, fill)
      : planned && rowSpecs(config).length === 0
        ? { set: planned, naiveRows: [] }
        : await rowsWithBaselines(db, config, run.lineage_id, evalPartitions, fill, { rows: 'eval' });
  const champion = await getChampion(db, run.lineage_id);
  const metric = resolvedMetric(config.eval.metric, trainingSpec(config).loss.name);
  const started = performance.now();
  const fellBack = holdout === 'random' && config.eval.holdout === 'newest';
  const describedAs =
    holdout === 'newest'
      ? `${gateSet.sampledFrom ? `a uniform sample, training.evalMaxRows, of the ${gateSet.sampledFrom} rows` : 'all rows'} of ${gatePartitions.map((p) => p.path).join(', ')}, which it did not train on`
      : `held-out rows of ${evalPartitions.length} partition${evalPartitions.length === 1 ? '' : 's'} it trained on${fellBack ? `: only ${evalPartitions.length} fresh partition${evalPartitions.length === 1 ? '' : 's'}, not more than eval.holdoutPartitions ${config.eval.holdoutPartitions}, so no forward holdout` : ''}`;
  // The predictions are made here (trainer and serving); promotion scores, decides and records.
  const { outcome, scores } = await runGate(db, {
    lineageId: run.lineage_id,
    runId: run.id,
    candidateCheckpointId: candidateCheckpoint.id,
    champion,
    metric,
    metricAsConfigured: config.eval.metric,
    task: config.model.task,
    y: gateSet.y,
    candidatePredictions: await predictCheckpoint(db, config, candidateCheckpoint, gateSet),
    championPredictions: champion ? await predictVersion(db, config, champion, gateSet) : null,
    naiveConstants: constants,
    naiveRows,
    rules: config.eval,
    // eval.slices are categorical columns (the config says so): their slots in the gate rows.
    slices: config.eval.slices.map((column) => ({ column, ...categoricalColumnValues(gateSet, config.columns.categorical.indexOf(column)) })),
    seed: mixSeed(config.training.seed, Number(run.id)),
    gateRows: { partitionIds: [...gateSet.partitionIds], rows: gateSet.rows, holdout, describedAs },
    baseSelection: run.base_selection as { policy?: string; candidates?: unknown } | null,
    windowPartitionIds: partitions.map((p) => p.id),
    dataWatermark: run.data_watermark,
    trainedPartitionIds: await chainPartitionIds(db, run.id),
  });
  const { promotion, version } = outcome;
  onDecision?.({ promotion, created: outcome.created });
  if (outcome.fallback && version) {
    onDecision?.({ promotion: outcome.fallback, created: true });
    log.warn({ version: version.version, constant: version.constant, name: version.constant_name }, outcome.fallback.reason);
  }
  log.info(
    { decision: promotion.decision, version: version?.version ?? null, metric, candidate: scores.candidate, champion: scores.champion, naive: scores.naive?.metric ?? null, holdout, evalRows: gateSet.rows, gateSeconds: (performance.now() - started) / 1000, reason: promotion.reason },
    promotion.decision === 'promoted' ? 'candidate promoted' : 'candidate rejected',
  );
  await reconcileServing(db, config, log);
}

export function retrainJobHandler(deps: RetrainDependencies): JobHandler {
  const { db, config, log: baseLog } = deps;
  return async (job: Job, context) => {
    const lineage = String(job.payload.lineage ?? config.lineage);
    if (lineage !== config.lineage) throw new ConfigError(`job ${job.id} retrains lineage "${lineage}" but this worker is configured for "${config.lineage}"`);
    const log = context.log;
    const common = {
      db,
      config,
      log,
      signal: context.signal,
      jobId: job.id,
      leaseLost: context.leaseLost,
      protectSteps: (runId: string) => prePlateauStepsToKeep(db, config, runId),
      // The job's lease progress hangs off the same hook as the daemon's metrics: a run
      // that keeps recording checkpoints does not use up attempts when its worker is killed.
      observers: [deps.observer, { onCheckpoint: () => context.progressed() }],
      retryWrites: <T,>(what: string, write: () => Promise<T>) =>
        retryTransient(write, { signal: context.signal, log: baseLog, what, ...registryRetryPolicy(config.database) }),
    };
    let previous = await latestRunOfJob(db, job.id);
    if (!previous) {
      const lineageRow = await findLineageByName(db, lineage);
      previous = lineageRow ? await adoptOrphanRun(db, lineageRow.id, job.id) : undefined;
      if (previous) log.info({ run: previous.id }, 'adopting an unfinished run that no live job owns');
    }
    let result: TrainRunResult;
    let plan: Plan | undefined; // read while planning, reused by the gate
    if (previous?.status === 'succeeded') {
      log.info({ run: previous.id }, 'this job already finished its run (the worker stopped before it was marked done); completing its gate');
      await gate(deps, previous, log);
      return 'done';
    } else if (previous?.status === 'running') {
      log.info({ run: previous.id }, 'resuming the run an earlier attempt of this job started');
      result = await trainRun({ ...common, resumeRunId: previous.id });
    } else {
      plan = await planRun(db, config, log);
      if (!plan) {
        log.info('the champion has seen every registered partition: nothing to retrain');
        return 'done';
      }
      result = await trainRun({
        ...common,
        kind: plan.kind,
        partitions: plan.train,
        evalPartitions: plan.eval,
        gatePartitions: plan.gate,
        ...(plan.base?.chosen ? { fromCheckpointId: plan.base.chosen.checkpointId } : {}),
        ...(plan.base ? { baseSelection: plan.base as unknown as Record<string, unknown> } : {}),
        ...(plan.virtualEpochs ? { virtualEpochs: plan.virtualEpochs } : {}),
        ...(plan.evalSet ? { evalSet: plan.evalSet } : {}),
      });
    }
    if (result.status === 'interrupted') return 'interrupted';
    const run = await getRun(db, result.runId);
    await gate(deps, run, log.child({ run: run.id }), plan?.evalSet);
    return 'done';
  };
}
