// The `retrain` job, end to end: plan (first model, or a retrain on the partitions the
// champion has not seen plus a replay window), choose the base checkpoint, train, then the
// evaluation gate against the champion on the same fresh eval rows, then the serving export.
//
// Idempotent across attempts: a run this job started and did not finish is resumed from
// its newest checkpoint (the worker died or shut down); a run it finished is not repeated,
// only its gate decision is completed if it was missing; the gate decides once per run.
import type { ResolvedConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { CHAMPION, findLineageByName, getAliasedVersion, getCheckpoint, isTransientDatabaseError, type Job, type Registry, type Run } from '../registry/index.ts';
import { retryTransient } from '../retry.ts';
import { evaluateCheckpoint, lineageEvalSet, registeredPartitions, trainRun, type EvalSet, type TrainRunResult, type TrainingPartition } from '../trainer/index.ts';
import { prePlateauStepsToKeep, selectBase, type BaseSelection } from './base-selection.ts';
import { gateDecision, metricValue } from './evaluation-gate.ts';
import { PermanentJobError, type JobHandler } from './job-worker.ts';
import { recordGateDecision } from './promotion.ts';
import { chainPartitionIds, headRun } from './run-chain.ts';
import { reconcileServing } from './serving-export.ts';

export interface RetrainDependencies {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  metrics?: Metrics | undefined;
}

async function latestRunOfJob(db: Registry, jobId: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').executeTakeFirst();
}

/**
 * An unfinished run of the lineage that no live job owns (its job failed for good or was
 * cancelled, or `freshet train` was killed): this job adopts and resumes it rather than
 * start over, so that no finished virtual epoch is lost.
 */
async function adoptOrphanRun(db: Registry, lineageName: string, jobId: string): Promise<Run | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  if (!lineage) return undefined;
  const orphan = await db
    .selectFrom('runs')
    .leftJoin('jobs', 'jobs.id', 'runs.job_id')
    .selectAll('runs')
    .where('runs.lineage_id', '=', lineage.id)
    .where('runs.status', '=', 'running')
    .where((eb) => eb.or([eb('runs.job_id', 'is', null), eb('jobs.state', 'not in', ['queued', 'running'])]))
    .orderBy('runs.id', 'desc')
    .executeTakeFirst();
  if (!orphan) return undefined;
  await db.updateTable('runs').set({ job_id: jobId }).where('id', '=', orphan.id).execute();
  return { ...orphan, job_id: jobId };
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
  const head = await headRun(db, config.lineage);
  if (!head) {
    if (registered.length === 0) throw new PermanentJobError('no registered partitions to train on');
    return { kind: 'initial', train: registered, eval: registered, base: undefined, virtualEpochs: undefined, evalSet: undefined };
  }
  const seen = new Set(await chainPartitionIds(db, head.runId));
  const fresh = registered.filter((p) => !seen.has(p.id));
  if (fresh.length === 0) return undefined;
  const older = registered.filter((p) => seen.has(p.id)); // path order: the newest last (dt=…)
  const replay = (config.retrain.replayPartitions > 0 ? older.slice(-config.retrain.replayPartitions) : []).map((p) => ({
    ...p,
    replay: true,
    sample: config.retrain.replayFraction,
  }));
  const evalSet = await lineageEvalSet(db, config, head.lineageId, fresh);
  const base = await selectBase(db, config, head.runId, evalSet, log);
  return { kind: 'retrain', train: [...fresh, ...replay], eval: fresh, base, virtualEpochs: config.retrain.virtualEpochs, evalSet };
}

/** The held-out rows of the partitions a run was validated on (its `eval` role). */
async function runEvalSet(db: Registry, config: ResolvedConfig, run: Run): Promise<EvalSet> {
  const evalIds = new Set((await db.selectFrom('run_partitions').select('partition_id').where('run_id', '=', run.id).where('role', '=', 'eval').execute()).map((r) => r.partition_id));
  const evalPartitions = (await registeredPartitions(db, config.dataDir)).filter((p) => evalIds.has(p.id));
  return lineageEvalSet(db, config, run.lineage_id, evalPartitions);
}

/** Evaluates the run's result against the champion on the run's eval partitions, records the decision, exports. */
async function gate({ db, config, metrics }: RetrainDependencies, run: Run, log: Logger, loaded?: EvalSet): Promise<void> {
  if (!run.result_checkpoint_id) throw new Error(`run ${run.id} finished without a result checkpoint`);
  const candidateCheckpoint = await getCheckpoint(db, run.result_checkpoint_id);
  const evalSet = loaded ?? (await runEvalSet(db, config, run));
  const champion = await getAliasedVersion(db, run.lineage_id, CHAMPION);
  const metric = config.eval.metric;
  // The run scored its result checkpoint on these very rows (its eval partitions, read the
  // same way) when it wrote it: the gate reads that score instead of computing it again.
  const candidateMetric = metricValue(metric, { valLoss: candidateCheckpoint.val_loss ?? Number.NaN, metrics: candidateCheckpoint.metrics }, config.model.task);
  const championMetric = champion ? metricValue(metric, await evaluateCheckpoint(db, config, await getCheckpoint(db, champion.checkpoint_id), evalSet), config.model.task) : null;
  const decision = gateDecision({ metric, candidate: candidateMetric, champion: championMetric, evalRows: evalSet.rows }, config.eval);
  const selection = run.base_selection as { policy?: string; candidates?: unknown } | null;
  const outcome = await recordGateDecision(db, {
    lineageId: run.lineage_id,
    runId: run.id,
    candidateCheckpointId: candidateCheckpoint.id,
    championVersionId: champion?.id ?? null,
    promote: decision.promote,
    reason: decision.reason,
    metricName: metric,
    candidateMetric,
    championMetric,
    evalPartitionIds: evalSet.partitionIds,
    evalRows: evalSet.rows,
    basePolicy: selection?.policy ?? null,
    baseCandidates: selection?.candidates ?? null,
    dataWatermark: run.data_watermark,
    trainedPartitionIds: await chainPartitionIds(db, run.id),
  });
  const { promotion, version } = outcome;
  metrics?.evalMetric.set({ model: 'candidate' }, candidateMetric);
  if (championMetric !== null) metrics?.evalMetric.set({ model: 'champion' }, championMetric);
  if (outcome.created) metrics?.promotionsTotal.inc({ decision: promotion.decision });
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
    if (lineage !== config.lineage) throw new PermanentJobError(`job ${job.id} retrains lineage "${lineage}" but this worker is configured for "${config.lineage}"`);
    const log = context.log;
    const common = {
      db,
      config,
      log,
      signal: context.signal,
      jobId: job.id,
      leaseLost: context.leaseLost,
      protectSteps: (runId: string) => prePlateauStepsToKeep(db, config, runId),
      metrics: deps.metrics,
      retryWrites: <T,>(what: string, write: () => Promise<T>) =>
        retryTransient(write, { signal: context.signal, log: baseLog, what, maxBackoffSeconds: config.database.maxBackoffSeconds, isTransient: isTransientDatabaseError }),
    };
    try {
      let previous = await latestRunOfJob(db, job.id);
      if (!previous) {
        previous = await adoptOrphanRun(db, lineage, job.id);
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
      const run = await db.selectFrom('runs').selectAll().where('id', '=', result.runId).executeTakeFirstOrThrow();
      await gate(deps, run, log.child({ run: run.id }), evalSet);
      return 'done';
    } catch (error) {
      if (error instanceof PermanentJobError) throw error;
      if (error instanceof UsageError || /different columns\/model|training loss became|not computed for task/.test((error as Error).message)) {
        throw new PermanentJobError((error as Error).message, { cause: error });
      }
      throw error;
    }
  };
}
