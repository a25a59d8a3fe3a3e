// The `retrain` job, end to end: plan (first model, or a retrain on the partitions the
// champion has not seen plus a replay window), choose the base checkpoint, train, then the
// evaluation gate against the champion on the same fresh eval rows, then the serving export.
//
// Idempotent across attempts: a run this job started and did not finish is resumed from
// its newest checkpoint (the worker died or shut down); a run it finished is not repeated,
// only its gate decision is completed if it was missing; the gate decides once per run.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError, NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  adoptOrphanRun,
  chainPartitionIds,
  findLineageByName,
  freshPartitions,
  getChampion,
  getCheckpoint,
  getRun,
  headRunId,
  isTransientDatabaseError,
  latestRunOfJob,
  runPartitionRoles,
  type Job,
  type Promotion,
  type Registry,
  type Run,
} from '../registry/index.ts';
import { retryTransient } from '../core/retry.ts';
import { evaluateCheckpoint, lineageEvalSet, registeredPartitions, trainRun, type EvalSet, type TrainObserver, type TrainRunResult, type TrainingPartition } from '../trainer/index.ts';
import { prePlateauStepsToKeep, selectBase, type BaseSelection } from '../selection/index.ts';
import { gateDecision, metricValue, recordGateDecision } from '../promotion/index.ts';
import type { JobHandler } from '../queue/index.ts';
import { reconcileServing } from '../serving/index.ts';

export interface RetrainDependencies {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  /** Hears the training runs (the daemon's metrics). */
  observer?: TrainObserver | undefined;
  /** Each gate decision once recorded (`created`: false when an earlier attempt recorded it). */
  onDecision?: ((decision: { promotion: Promotion; created: boolean; candidateMetric: number; championMetric: number | null }) => void) | undefined;
}

interface Plan {
  kind: 'initial' | 'retrain';
  train: TrainingPartition[];
  eval: TrainingPartition[];
  base: BaseSelection | undefined;
  virtualEpochs: number | undefined;
  /** The fresh partitions' held-out rows, read once for scoring the base candidates and reused for validation. */
  evalSet: EvalSet | undefined;
}

/** What to train on and from where; undefined when the champion has seen every partition. */
async function planRun(db: Registry, config: ResolvedConfig, log: Logger): Promise<Plan | undefined> {
  const registered = await registeredPartitions(db, config.dataDir);
  const lineage = await findLineageByName(db, config.lineage);
  const head = lineage ? await headRunId(db, lineage.id) : undefined;
  if (!lineage || !head) {
    if (registered.length === 0) throw new NotFoundError('no registered partitions to train on');
    return { kind: 'initial', train: registered, eval: registered, base: undefined, virtualEpochs: undefined, evalSet: undefined };
  }
  const freshIds = new Set((await freshPartitions(db, lineage.id)).map((p) => p.id));
  const fresh = registered.filter((p) => freshIds.has(p.id));
  if (fresh.length === 0) return undefined;
  const older = registered.filter((p) => !freshIds.has(p.id)); // path order: the newest last (dt=…)
  const replay = (config.retrain.replayPartitions > 0 ? older.slice(-config.retrain.replayPartitions) : []).map((p) => ({
    ...p,
    replay: true,
    sample: config.retrain.replayFraction,
  }));
  const evalSet = await lineageEvalSet(db, config, lineage.id, fresh);
  const base = await selectBase(db, config, head, evalSet, log);
  return { kind: 'retrain', train: [...fresh, ...replay], eval: fresh, base, virtualEpochs: config.retrain.virtualEpochs, evalSet };
}

/** The held-out rows of the partitions a run was validated on (its `eval` role). */
async function runEvalSet(db: Registry, config: ResolvedConfig, run: Run): Promise<EvalSet> {
  const evalIds = (await runPartitionRoles(db, run.id)).eval;
  const evalPartitions = (await registeredPartitions(db, config.dataDir)).filter((p) => evalIds.has(p.id));
  return lineageEvalSet(db, config, run.lineage_id, evalPartitions);
}

/** Evaluates the run's result against the champion on the run's eval partitions, records the decision, exports. */
async function gate({ db, config, onDecision }: RetrainDependencies, run: Run, log: Logger, loaded?: EvalSet): Promise<void> {
  if (!run.result_checkpoint_id) throw new Error(`run ${run.id} finished without a result checkpoint`);
  const candidateCheckpoint = await getCheckpoint(db, run.result_checkpoint_id);
  const evalSet = loaded ?? (await runEvalSet(db, config, run));
  const champion = await getChampion(db, run.lineage_id);
  const metric = config.eval.metric;
  // The run scored its result checkpoint on these very rows (its eval partitions, read the
  // same way) when it wrote it: the gate reads that score instead of computing it again.
  const candidateMetric = metricValue(metric, { valLoss: candidateCheckpoint.val_loss ?? Number.NaN, metrics: candidateCheckpoint.metrics }, config.model.task);
  const championMetric = champion ? metricValue(metric, await evaluateCheckpoint(db, config, await getCheckpoint(db, champion.checkpoint_id), evalSet), config.model.task) : null;
  const decision = gateDecision({ metric, candidate: candidateMetric, champion: championMetric, evalRows: evalSet.rows }, config.eval);
  const selection = run.base_selection as { policy?: string; candidates?: unknown } | null;
  const outcome = await recordGateDecision(db, {
    row: {
      lineage_id: run.lineage_id,
      run_id: run.id,
      candidate_checkpoint_id: candidateCheckpoint.id,
      champion_version_id: champion?.id ?? null,
      metric_name: metric,
      candidate_metric: candidateMetric,
      champion_metric: championMetric,
      eval_partition_ids: [...evalSet.partitionIds],
      eval_rows: evalSet.rows,
      base_policy: selection?.policy ?? null,
      base_candidates: JSON.stringify(selection?.candidates ?? null),
      reason: decision.reason,
    },
    promote: decision.promote,
    dataWatermark: run.data_watermark,
    trainedPartitionIds: await chainPartitionIds(db, run.id),
  });
  const { promotion, version } = outcome;
  onDecision?.({ promotion, created: outcome.created, candidateMetric, championMetric });
  log.info(
    { decision: promotion.decision, version: version?.version ?? null, metric, candidate: candidateMetric, champion: championMetric, evalRows: evalSet.rows, reason: promotion.reason },
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
        retryTransient(write, { signal: context.signal, log: baseLog, what, maxBackoffSeconds: config.database.maxBackoffSeconds, isTransient: isTransientDatabaseError }),
    };
    let previous = await latestRunOfJob(db, job.id);
    if (!previous) {
      const lineageRow = await findLineageByName(db, lineage);
      previous = lineageRow ? await adoptOrphanRun(db, lineageRow.id, job.id) : undefined;
      if (previous) log.info({ run: previous.id }, 'adopting an unfinished run that no live job owns');
    }
    let result: TrainRunResult;
    let evalSet: EvalSet | undefined; // read while planning, reused by the gate
    if (previous?.status === 'succeeded') {
      log.info({ run: previous.id }, 'this job already finished its run (the worker stopped before it was marked done); completing its gate');
      await gate(deps, previous, log);
      return 'done';
    } else if (previous?.status === 'running') {
      log.info({ run: previous.id }, 'resuming the run an earlier attempt of this job started');
      result = await trainRun({ ...common, resumeRunId: previous.id });
    } else {
      const plan = await planRun(db, config, log);
      evalSet = plan?.evalSet;
      if (!plan) {
        log.info('the champion has seen every registered partition: nothing to retrain');
        return 'done';
      }
      result = await trainRun({
        ...common,
        kind: plan.kind,
        partitions: plan.train,
        evalPartitions: plan.eval,
        ...(plan.base?.chosen ? { fromCheckpointId: plan.base.chosen.checkpointId } : {}),
        ...(plan.base ? { baseSelection: plan.base as unknown as Record<string, unknown> } : {}),
        ...(plan.virtualEpochs ? { virtualEpochs: plan.virtualEpochs } : {}),
        ...(plan.evalSet ? { evalSet: plan.evalSet } : {}),
      });
    }
    if (result.status === 'interrupted') return 'interrupted';
    const run = await getRun(db, result.runId);
    await gate(deps, run, log.child({ run: run.id }), evalSet);
    return 'done';
  };
}
