// Running a retrain job in the test process, as a worker would (claim, then the handler).
import assert from 'node:assert/strict';
import type { ResolvedConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import type { Registry } from '../../src/registry/index.ts';
import { claimJob } from '../../src/queue/index.ts';
import { enqueueRetrain } from '../../src/scheduler/index.ts';
import { retrainJobHandler } from '../../src/retrain/index.ts';

const log = createLogger({ level: 'warn', format: 'json' });

/** Runs one retrain job the way a worker does (claim, then the handler). */
export async function runRetrainJob(db: Registry, config: ResolvedConfig) {
  const { job } = await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 1, reason: 'test' });
  const claimed = await claimJob(db, { workerId: 'test', leaseSeconds: 300 });
  assert.equal(claimed?.id, job.id);
  const outcome = await retrainJobHandler({ db, config, log })(claimed!, { signal: new AbortController().signal, leaseLost: () => false, progressed: () => {}, log });
  await db.updateTable('jobs').set({ state: 'succeeded', locked_by: null, lease_expires_at: null }).where('id', '=', job.id).execute();
  assert.equal(outcome, 'done');
  return db.selectFrom('runs').selectAll().where('job_id', '=', job.id).executeTakeFirst();
}

