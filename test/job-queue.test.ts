// The queue's protocol against real Postgres: claims, leases, heartbeats, retries, the
// concurrency key, cron slots, NOTIFY, and the retrain policy.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createLogger } from '../src/core/log.ts';
import { claimCronSlot, enqueueJob, type Registry } from '../src/registry/index.ts';
import { enqueueRetrain, evaluateRetrainPolicy, slotOf } from '../src/scheduler/index.ts';
import { claimJob, completeJob, failExhaustedJobs, failJob, heartbeatJob, JobWorker, recordJobProgress, releaseJob, type JobContext, type JobHandler, retryDelaySeconds } from '../src/queue/index.ts';
import { ConfigError } from '../src/core/errors.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';

const lease = (workerId: string, leaseSeconds = 30) => ({ workerId, leaseSeconds });

/** A worker 'a' for lineage 'default' with one retrain handler, a fast heartbeat and poll. */
function testWorker(db: Registry, retrain: JobHandler): JobWorker {
  return new JobWorker({
    db,
    workerId: 'a',
    lineages: ['default'],
    handlers: { retrain },
    log: createLogger({ level: 'silent', format: 'json' }),
    leaseSeconds: 30,
    heartbeatSeconds: 0.2,
    pollIntervalSeconds: 0.1,
    maxBackoffSeconds: 1,
    backoff: { backoffSeconds: 60, maxBackoffSeconds: 60 },
  });
}

async function expireLease(db: Registry, jobId: string): Promise<void> {
  await db.updateTable('jobs').set({ lease_expires_at: sql`now() - interval '1 second'` }).where('id', '=', jobId).execute();
}

test('each queued job is claimed by exactly one of many concurrent claimers', async () => {
  const { db } = await createTestDatabase();
  for (let i = 0; i < 40; i++) await enqueueJob(db, { kind: 'retrain', payload: { n: i } });
  const claimed: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (;;) {
        const job = await claimJob(db, lease(`w${w}`));
        if (!job) return;
        claimed.push(job.id);
        assert.equal(job.state, 'running');
        assert.equal(job.attempts, 1);
        assert.equal(job.locked_by, `w${w}`);
      }
    }),
  );
  assert.equal(claimed.length, 40);
  assert.equal(new Set(claimed).size, 40, 'no job claimed twice');
});

test('a job whose lease expired is claimed again, counts the attempt, and the old holder can no longer settle it', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 3 });
  const first = await claimJob(db, lease('a'));
  assert.equal(first?.id, job.id);
  assert.equal(await claimJob(db, lease('b')), undefined, 'a live lease is not taken');
  assert.equal(await heartbeatJob(db, job.id, lease('a')), true);
  await expireLease(db, job.id);
  const second = await claimJob(db, lease('b'));
  assert.equal(second?.id, job.id);
  assert.equal(second?.attempts, 2);
  assert.equal(second?.locked_by, 'b');
  assert.equal(await heartbeatJob(db, job.id, lease('a')), false, 'the old holder lost the lease');
  assert.equal(await completeJob(db, job.id, 'a'), false);
  assert.equal(await completeJob(db, job.id, 'b'), true);
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'succeeded');
  assert.equal(row.locked_by, null);
});

test('a job another worker of the same process is running is not taken over when its lease expires (the registry was out of reach), and the holder keeps it', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 3 });
  assert.equal((await claimJob(db, lease('p#0')))?.id, job.id);
  await expireLease(db, job.id);
  assert.equal(await claimJob(db, { ...lease('p#1'), skipJobIds: [job.id] }), undefined, 'the sibling leaves it alone');
  assert.equal(await heartbeatJob(db, job.id, lease('p#0')), true, 'the holder renews it once the registry answers');
  await expireLease(db, job.id);
  assert.equal((await claimJob(db, lease('other-process')))?.id, job.id, 'another process still takes an expired lease over');
});

test('a lease that expires on the last attempt fails the job for good, with the reason', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 1 });
  await claimJob(db, lease('a'));
  await expireLease(db, job.id);
  assert.equal(await claimJob(db, lease('b')), undefined, 'no attempts left');
  assert.deepEqual(await failExhaustedJobs(db), [job.id]);
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'failed');
  assert.match(row.last_error!, /lease expired on attempt 1 of 1 \(worker a stopped heartbeating\)/);
});

test('failures back off exponentially up to the cap, then fail for good keeping the error', async () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n, { backoffSeconds: 10, maxBackoffSeconds: 60 })),
    [10, 20, 40, 60, 60, 60],
  );
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 2 });
  const claimed = (await claimJob(db, lease('a')))!;
  assert.equal(await failJob(db, claimed, 'a', 'boom 1', { backoffSeconds: 100, maxBackoffSeconds: 1000 }), 'retrying');
  let row = await db.selectFrom('jobs').select(['state', 'last_error', sql<number>`extract(epoch from run_at - now())`.as('wait')]).where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'queued');
  assert.equal(row.last_error, 'boom 1');
  assert.ok(Number(row.wait) > 90 && Number(row.wait) <= 100, `backoff ${row.wait}`);
  assert.equal(await claimJob(db, lease('a')), undefined, 'not due before its backoff');
  await db.updateTable('jobs').set({ run_at: sql`now()` }).where('id', '=', job.id).execute();
  const again = (await claimJob(db, lease('a')))!;
  assert.equal(again.attempts, 2);
  assert.equal(await failJob(db, again, 'a', 'boom 2', { backoffSeconds: 100, maxBackoffSeconds: 1000 }), 'failed');
  row = await db.selectFrom('jobs').select(['state', 'last_error', sql<number>`0`.as('wait')]).where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'failed');
  assert.equal(row.last_error, 'boom 2');
});

test('a released job goes back to the queue without spending an attempt', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain' });
  await claimJob(db, lease('a'));
  assert.equal(await releaseJob(db, job.id, 'b'), false, 'only the holder releases');
  assert.equal(await releaseJob(db, job.id, 'a'), true);
  const again = await claimJob(db, lease('b'));
  assert.equal(again?.attempts, 1);
});

test('jobs sharing a concurrency key never run at the same time', async () => {
  const { db } = await createTestDatabase();
  await enqueueJob(db, { kind: 'retrain', concurrency_key: 'lineage:x', singleton_key: 'a' });
  await enqueueJob(db, { kind: 'retrain', concurrency_key: 'lineage:x', singleton_key: 'b' });
  await enqueueJob(db, { kind: 'retrain', concurrency_key: 'lineage:y' });
  const claims = await Promise.all(['w1', 'w2', 'w3'].map((w) => claimJob(db, lease(w))));
  const keys = claims.filter((j) => j !== undefined).map((j) => j!.concurrency_key).sort();
  assert.deepEqual(keys, ['lineage:x', 'lineage:y']);
  // The index is the guarantee even for a statement that skips the claim's check.
  await assert.rejects(
    db.updateTable('jobs').set({ state: 'running', locked_by: 'z', lease_expires_at: sql`now() + interval '1 minute'` }).where('concurrency_key', '=', 'lineage:x').where('state', '=', 'queued').execute(),
    (error: { code?: string }) => error.code === '23505',
  );
});

test('a worker claims only jobs of its own lineage', async () => {
  const { db } = await createTestDatabase();
  await enqueueRetrain(db, { lineage: 'other', trigger: 'manual', maxAttempts: 3, reason: 'test' });
  assert.equal(await claimJob(db, { ...lease('a'), lineages: ['mine'] }), undefined);
  assert.equal((await claimJob(db, { ...lease('a'), lineages: ['mine', 'other'] }))?.payload.lineage, 'other');
});

test('enqueueing a retrain is idempotent while one is queued or running', async () => {
  const { db } = await createTestDatabase();
  const request = { lineage: 'l', trigger: 'arrival' as const, maxAttempts: 3, reason: 'test' };
  const first = await enqueueRetrain(db, request);
  const results = await Promise.all(Array.from({ length: 10 }, () => enqueueRetrain(db, request)));
  assert.equal(first.created, true);
  assert.ok(results.every((r) => !r.created && r.job.id === first.job.id));
  await claimJob(db, lease('a'));
  assert.equal((await enqueueRetrain(db, request)).created, false, 'running counts as live');
  await completeJob(db, first.job.id, 'a');
  assert.equal((await enqueueRetrain(db, request)).created, true, 'a new one once the last finished');
});

test('exactly one of many processes wins a cron slot', async () => {
  const { db } = await createTestDatabase();
  const slot = slotOf(new Date('2026-11-26T12:00:00.730Z'));
  assert.equal(slot.toISOString(), '2026-11-26T12:00:00.000Z');
  const wins = await Promise.all(Array.from({ length: 12 }, (_, i) => claimCronSlot(db, '*/15 * * * *', slot, `p${i}`)));
  assert.equal(wins.filter(Boolean).length, 1);
  assert.equal(await claimCronSlot(db, '*/5 * * * *', slot, 'p0'), true, 'slots are per schedule');
});

test('a job becoming claimable sends a NOTIFY on freshet_jobs', async () => {
  const { db, url } = await createTestDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('LISTEN freshet_jobs');
    const received: string[] = [];
    client.on('notification', (message) => received.push(message.payload ?? ''));
    const { job } = await enqueueJob(db, { kind: 'retrain' });
    const claimed = (await claimJob(db, lease('a')))!;
    await failJob(db, claimed, 'a', 'x', { backoffSeconds: 0, maxBackoffSeconds: 0 });
    for (let i = 0; i < 50 && received.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(received, [job.id, job.id], 'on insert and on going back to queued, not on claim');
  } finally {
    await client.end();
  }
});

test('the retrain policy counts data not yet trained on by a finished run, and waits for thresholds or staleness', async () => {
  const { db } = await createTestDatabase();
  const dir = tempDir();
  const policy = { minNewPartitions: 2, minNewExamples: 0, maxStalenessSeconds: 0 };
  assert.deepEqual((await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, policy)).due, false);
  const first = await addPartition(db, `${dir}/data`, '2026-11-01', syntheticRows(10, 1));
  let verdict = await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, policy);
  assert.equal(verdict.due, false);
  assert.match(verdict.reason, /1 new partitions with 10 rows: below the thresholds/);
  // Staleness overrides the thresholds once the data has waited long enough.
  await db.updateTable('partitions').set({ arrived_at: sql`now() - interval '2 hours'` }).where('id', '=', first).execute();
  verdict = await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, { ...policy, maxStalenessSeconds: 3600 });
  assert.equal(verdict.due, true);
  assert.match(verdict.reason, /waited 72\d\d s/);
  const second = await addPartition(db, `${dir}/data`, '2026-11-02', syntheticRows(10, 2));
  verdict = await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, { ...policy, minNewExamples: 30 });
  assert.equal(verdict.due, false, '20 rows < 30');
  verdict = await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, policy);
  assert.equal(verdict.due, true);
  assert.equal(verdict.watermark, second);
  // A finished run of the lineage that trained on both: nothing new any more.
  const lineage = await db
    .insertInto('lineages')
    .values({ name: 'l', task: 'regression', config: '{}', config_sha256: 'x', batch_size: 1, num_checkpoints: 1, stop_point: 1, train_examples: 1, steps_per_epoch: 1, feature_stats: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const run = await db.insertInto('runs').values({ lineage_id: lineage.id, kind: 'initial', seed: 1, backend: 'cpu', status: 'succeeded', finished_at: new Date() }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('run_partitions').values([first, second].map((id) => ({ run_id: run.id, partition_id: id, role: 'train' as const }))).execute();
  verdict = await evaluateRetrainPolicy(db, { lineage: 'l', dataDir: `${dir}/data` }, policy);
  assert.equal(verdict.newPartitions, 0);
  assert.equal(verdict.due, false);
});

test('a worker whose lease is taken over stops its handler (signal aborted, leaseLost true) and settles nothing', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', payload: { lineage: 'default' } });
  let context: JobContext | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const worker = testWorker(db, async (_job, ctx) => {
    context = ctx;
    started();
    await once(ctx.signal, 'abort');
    return 'interrupted'; // what trainRun returns when aborted
  });
  const settled = once(worker, 'settled');
  worker.start();
  await running;
  // As after a pause longer than the lease: it expired and another worker took the job.
  await expireLease(db, job.id);
  assert.equal((await claimJob(db, lease('b')))?.id, job.id);
  const [, outcome] = await settled;
  await worker.stop();
  assert.equal(outcome, 'lost');
  assert.equal(context!.leaseLost(), true);
  assert.match(String((context!.signal.reason as Error).message), /lease lost/);
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.deepEqual([row.state, row.locked_by, row.attempts], ['running', 'b', 2], 'the new holder\'s job, untouched by the old one (no release)');
});

test('retries count failures, not restarts: an attempt killed after its run advanced does not use up max_attempts', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 2 });
  // Five kills, each just after the attempt recorded a new checkpoint (as preemption or an
  // OOM kill would do): the job keeps going, and never counts more than one attempt.
  for (let kill = 1; kill <= 5; kill++) {
    const claimed = await claimJob(db, lease(`w${kill}`));
    assert.equal(claimed?.id, job.id, `claimable again after kill ${kill - 1}`);
    assert.equal(claimed!.attempts, 1, 'the killed attempts that advanced were not counted');
    assert.equal(await recordJobProgress(db, job.id, `w${kill}`), true);
    await expireLease(db, job.id);
    assert.deepEqual(await failExhaustedJobs(db), [], 'an attempt that advanced is not exhausted');
  }
  const last = await claimJob(db, lease('w6'));
  assert.equal(await completeJob(db, job.id, last!.locked_by!), true);
  assert.equal(await recordJobProgress(db, job.id, 'w1'), false, 'only the holder records progress');
});

test('a crash loop that makes no progress still fails for good after max_attempts', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 3 });
  const first = (await claimJob(db, lease('a')))!;
  await recordJobProgress(db, job.id, 'a'); // the first attempt advanced, then died
  await expireLease(db, job.id);
  const attempts = [first.attempts];
  for (const worker of ['b', 'c', 'd']) {
    const claimed = await claimJob(db, lease(worker)); // these die before any checkpoint
    if (!claimed) break;
    attempts.push(claimed.attempts);
    await expireLease(db, job.id);
  }
  assert.deepEqual(attempts, [1, 1, 2, 3], 'the advancing attempt was free, the three stuck ones were counted');
  assert.equal(await claimJob(db, lease('e')), undefined, 'no attempts left');
  assert.deepEqual(await failExhaustedJobs(db), [job.id]);
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'failed');
  assert.match(row.last_error!, /lease expired on attempt 3 of 3/);
});

test('whether a failure is permanent is decided by class: a ConfigError fails at once whatever its message, a plain Error is retried', async () => {
  const { db } = await createTestDatabase();
  const worker = (thrown: Error) => testWorker(db, async () => Promise.reject(thrown));
  for (const [thrown, expected] of [
    [new ConfigError('a reworded message nobody matches'), 'failed'],
    [new Error('the disk hiccuped'), 'retrying'],
  ] as const) {
    const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 5, singleton_key: thrown.message, payload: { lineage: 'default' } });
    const w = worker(thrown);
    const settled = once(w, 'settled');
    w.start();
    const [settledJob, outcome] = await settled;
    await w.stop();
    assert.equal(settledJob.id, job.id);
    assert.equal(outcome, expected, thrown.message);
  }
});
