// Running a retrain job in the test process through the queue, as a worker does: the
// same JobWorker.runOnce the backtest uses (claim, lease, handler, settle), no hand copy.
import assert from 'node:assert/strict';
import type { ResolvedConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { Registry } from '../../src/registry/index.ts';
import { JobWorker } from '../../src/queue/index.ts';
import { enqueueRetrain } from '../../src/scheduler/index.ts';
import { retrainJobHandler } from '../../src/retrain/index.ts';

const log = createLogger({ level: 'warn', format: 'json' });

/** Enqueues a retrain of the configured lineage and runs it to the end; returns its run (the job must succeed). */
export async function runRetrainJob(db: Registry, config: ResolvedConfig) {
  const { job } = await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 1, reason: 'test' });
  const worker = new JobWorker({
    db,
    workerId: 'test',
    lineages: [config.lineage],
    handlers: { retrain: retrainJobHandler({ db, config, log }) },
    log,
    leaseSeconds: 300,
    heartbeatSeconds: 30,
    pollIntervalSeconds: 1,
    maxBackoffSeconds: 1,
    backoff: { backoffSeconds: 1, maxBackoffSeconds: 1 },
  });
  const ran = await worker.runOnce();
  assert.equal(ran?.job.id, job.id);
  if (ran.outcome !== 'succeeded') {
    const settled = await db.selectFrom('jobs').select('last_error').where('id', '=', job.id).executeTakeFirstOrThrow();
    assert.fail(`the retrain job ${ran.outcome}: ${settled.last_error}`);
  }
  return db.selectFrom('runs').selectAll().where('job_id', '=', job.id).executeTakeFirst();
}
