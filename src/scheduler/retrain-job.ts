// The `retrain` job: train the lineage on the data registered now. Idempotent across
// attempts: a run this job started and did not finish is resumed from its newest
// checkpoint (the worker that started it died or shut down); a run it finished is not
// repeated (the worker died before it could mark the job done).
import type { ResolvedConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { findLineageByName, isTransientDatabaseError, type Job, type Registry, type Run } from '../registry/index.ts';
import { retryTransient } from '../retry.ts';
import { trainRun, type TrainRunResult } from '../trainer/index.ts';
import { PermanentJobError, type JobHandler } from './job-worker.ts';

export interface RetrainDependencies {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
  /** Called with each finished training run (metrics, follow-up policy checks). */
  onRunFinished?: (result: TrainRunResult) => void;
}

async function latestRunOfJob(db: Registry, jobId: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').executeTakeFirst();
}

/** The checkpoint the lineage's newest successful run ended with, if any. */
async function latestResultCheckpoint(db: Registry, lineageName: string): Promise<string | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  if (!lineage) return undefined;
  const row = await db
    .selectFrom('runs')
    .select('result_checkpoint_id')
    .where('lineage_id', '=', lineage.id)
    .where('status', '=', 'succeeded')
    .where('result_checkpoint_id', 'is not', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.result_checkpoint_id ?? undefined;
}

export function retrainJobHandler({ db, config, log: baseLog, onRunFinished }: RetrainDependencies): JobHandler {
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
      retryWrites: <T,>(what: string, write: () => Promise<T>) =>
        retryTransient(write, { signal: context.signal, log: baseLog, what, maxBackoffSeconds: config.database.maxBackoffSeconds, isTransient: isTransientDatabaseError }),
    };
    try {
      const previous = await latestRunOfJob(db, job.id);
      let result: TrainRunResult;
      if (previous?.status === 'succeeded') {
        log.info({ run: previous.id }, 'this job already finished its run (the worker stopped before it was marked done)');
        return 'done';
      } else if (previous?.status === 'running') {
        log.info({ run: previous.id }, 'resuming the run an earlier attempt of this job started');
        result = await trainRun({ ...common, resumeRunId: previous.id });
      } else {
        const base = await latestResultCheckpoint(db, lineage);
        result = base
          ? await trainRun({ ...common, fromCheckpointId: base, virtualEpochs: config.retrain.virtualEpochs, kind: 'retrain' })
          : await trainRun({ ...common, kind: 'initial' });
      }
      if (result.status === 'interrupted') return 'interrupted';
      onRunFinished?.(result);
      return 'done';
    } catch (error) {
      if (error instanceof UsageError || /no registered partitions to train on|different columns\/model/.test((error as Error).message)) {
        throw new PermanentJobError((error as Error).message, { cause: error });
      }
      throw error;
    }
  };
}
