// npm run bench:queue — the job queue's latency and claim throughput.
//
// 1. Latency from a partition's committed registration to its retrain job being claimed,
//    through freshet's real parts: the registration commits with pg_notify (as the
//    watcher's does) → the NotificationListener hears it → RetrainScheduler checks the
//    policy and enqueues → the jobs trigger NOTIFYs → a JobWorker claims. Two hops.
//    Reference in the same run: the same two NOTIFY hops with bare statements (insert a
//    job on the partition NOTIFY, claim it on the job NOTIFY), the floor for this design.
//    Then polling only (no LISTEN): cron checks the policy every second and the worker
//    polls every 0.5 s, so latency is bounded by those intervals.
// 2. Claim throughput: 2,000 queued jobs claimed and completed by 1, 2 and 4 JobWorkers
//    (no-op handler) against the same statements issued back to back by bare pg clients.
// Database: DATABASE_URL, else an embedded server under .freshet/bench-pg.
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { migrateToLatest, openRegistry, startEmbeddedPostgres, type Registry } from '../src/registry/index.ts';
import { CHANNELS } from '../src/registry/index.ts';
import { JobWorker, NotificationListener, claimJob, completeJob } from '../src/queue/index.ts';
import { RetrainScheduler } from '../src/scheduler/index.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const POLL_SAMPLES = Number(process.env.BENCH_POLL_SAMPLES ?? 20);
const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const log = createLogger({ level: (process.env.BENCH_LOG_LEVEL ?? 'silent') as 'silent', format: 'json' });

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const summary = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (n=${sorted.length})`;
};

async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: path.resolve('.freshet/bench-pg'), port: 0, database: 'freshet_bench', log });
  return { url: server.url, stop: () => server.stop() };
}

async function reset(db: Registry): Promise<void> {
  await sql`TRUNCATE jobs, cron_slots, run_partitions, runs, partitions, events RESTART IDENTITY CASCADE`.execute(db);
}

let day = 0;
/** A registration as the watcher commits it: the row and the NOTIFY in one transaction. */
async function register(db: Registry): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('partitions')
      .values({ source: 'bench', path: `dt=bench-${++day}`, sha256: 'a'.repeat(64), row_count: 100, status: 'registered', arrived_at: new Date(), detected_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`select pg_notify(${CHANNELS.partitions}, ${row.id})`.execute(trx);
  });
}

/**
 * The floor for the same two hops: on the partition NOTIFY insert a job (the jobs trigger
 * notifies), on the job NOTIFY claim it with the same statement. No policy query, no
 * lineage lookup, no worker loop.
 */
async function bareTwoHops(url: string): Promise<number[]> {
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  await reset(db);
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  await listener.query(`LISTEN ${CHANNELS.partitions}`);
  await listener.query(`LISTEN ${CHANNELS.jobs}`);
  let claimed: (() => void) | undefined;
  listener.on('notification', (message) => {
    if (message.channel === CHANNELS.partitions) void db.insertInto('jobs').values({ kind: 'retrain', payload: { lineage: 'default' } }).execute();
    else void claimJob(db, { workerId: 'bare', leaseSeconds: 30, lineages: ['default'] }).then((job) => job && claimed?.());
  });
  const out: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const claim = new Promise<void>((resolve) => (claimed = resolve));
    await register(db);
    const t = performance.now();
    await claim;
    out.push(performance.now() - t);
  }
  await listener.end();
  await db.destroy();
  return out;
}

/** Registration committed → job claimed, with the daemon's parts wired as the daemon wires them. */
async function registrationToClaim(url: string, mode: 'notify' | 'polling'): Promise<number[]> {
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  await reset(db);
  const config = loadConfig({
    env: {
      FRESHET_RETRAIN__SCHEDULE: mode === 'polling' ? '* * * * * *' : '',
      FRESHET_QUEUE__POLL_INTERVAL_SECONDS: mode === 'polling' ? '0.5' : '5',
    },
  });
  let claimed: (() => void) | undefined;
  const worker = new JobWorker({
    db,
    workerId: 'bench',
    lineages: [config.lineage],
    handlers: {
      retrain: async () => {
        claimed?.();
        return 'done';
      },
    },
    log,
    leaseSeconds: 30,
    heartbeatSeconds: 10,
    pollIntervalSeconds: config.queue.pollIntervalSeconds,
    maxBackoffSeconds: 1,
    backoff: { backoffSeconds: 1, maxBackoffSeconds: 1 },
  });
  const scheduler = new RetrainScheduler({ db, config, log, processId: 'bench', onEnqueued: () => worker.wake() });
  const listener = mode === 'notify' ? new NotificationListener({ url, channels: [CHANNELS.jobs, CHANNELS.partitions], log, maxBackoffSeconds: 1, connectTimeoutSeconds: 5 }) : undefined;
  listener?.on('notification', (channel) => (channel === CHANNELS.jobs ? worker.wake() : scheduler.dataArrived()));
  listener?.start();
  if (listener) while (!listener.connected) await delay(10);
  scheduler.start();
  worker.start();
  const settled = (): Promise<void> => new Promise((resolve) => worker.once('settled', () => resolve()));
  const out: number[] = [];
  const samples = mode === 'notify' ? SAMPLES : POLL_SAMPLES;
  for (let i = 0; i < samples; i++) {
    const claim = new Promise<void>((resolve) => (claimed = resolve));
    const done = settled();
    await register(db);
    const t = performance.now();
    await claim;
    out.push(performance.now() - t);
    await done;
    // Mark the data trained so that the next registration alone makes the policy due.
    await sql`insert into lineages (name, task, config, config_sha256, batch_size, num_checkpoints, stop_point, train_examples, steps_per_epoch, feature_stats)
              values ('default', 'regression', '{}', 'x', 1, 1, 1, 1, 1, '{}') on conflict do nothing`.execute(db);
    await sql`with r as (insert into runs (lineage_id, kind, seed, backend, status, finished_at) select id, 'retrain', 1, 'bench', 'succeeded', now() from lineages where name = 'default' returning id)
              insert into run_partitions (run_id, partition_id, role) select r.id, p.id, 'train' from r, partitions p
              where not exists (select 1 from run_partitions rp where rp.partition_id = p.id)`.execute(db);
    if (mode === 'polling') await delay(Math.random() * 1000); // arrivals at random phases of the intervals
  }
  await worker.stop();
  await scheduler.stop();
  await listener?.stop();
  await db.destroy();
  return out;
}

async function enqueueMany(db: Registry): Promise<void> {
  await reset(db);
  await sql`insert into jobs (kind, payload) select 'retrain', '{"lineage":"default"}' from generate_series(1, ${JOBS})`.execute(db);
}

async function workerThroughput(url: string, workers: number): Promise<number> {
  const db = openRegistry(url, { connectTimeoutSeconds: 10, maxConnections: workers * 2 + 2 });
  await enqueueMany(db);
  let done = 0;
  const all = Array.from({ length: workers }, (_, i) =>
    new JobWorker({
      db,
      workerId: `w${i}`,
      lineages: ['default'],
      handlers: { retrain: async () => 'done' },
      log,
      leaseSeconds: 30,
      heartbeatSeconds: 10,
      pollIntervalSeconds: 0.05,
      maxBackoffSeconds: 1,
      backoff: { backoffSeconds: 1, maxBackoffSeconds: 1 },
    }),
  );
  const finished = new Promise<void>((resolve) => all.forEach((w) => w.on('settled', () => ++done === JOBS && resolve())));
  const t = performance.now();
  all.forEach((w) => w.start());
  await finished;
  const seconds = (performance.now() - t) / 1000;
  await Promise.all(all.map((w) => w.stop()));
  await db.destroy();
  return JOBS / seconds;
}

/** The same claim and complete statements, issued back to back: no worker loop, timers or events. */
async function bareThroughput(url: string, workers: number): Promise<number> {
  const db = openRegistry(url, { connectTimeoutSeconds: 10, maxConnections: workers * 2 + 2 });
  await enqueueMany(db);
  const t = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, i) => {
      for (;;) {
        const job = await claimJob(db, { workerId: `b${i}`, leaseSeconds: 30, lineages: ['default'] });
        if (!job) return;
        await completeJob(db, job.id, `b${i}`);
      }
    }),
  );
  const seconds = (performance.now() - t) / 1000;
  await db.destroy();
  return JOBS / seconds;
}

const { url, stop } = await database();
try {
  const setupDb = openRegistry(url, { connectTimeoutSeconds: 10 });
  await migrateToLatest(setupDb);
  await setupDb.destroy();
  const hop = await bareTwoHops(url);
  const notify = await registrationToClaim(url, 'notify');
  const median = (v: number[]): number => quantile([...v].sort((a, b) => a - b), 0.5);
  process.stdout.write(`registration committed → retrain job claimed, with NOTIFY: ${summary(notify)}\n`);
  process.stdout.write(`  reference, the same two NOTIFY hops with bare statements (insert job, claim): ${summary(hop)}; ratio of medians ${(median(notify) / median(hop)).toFixed(1)}\n`);
  const polling = await registrationToClaim(url, 'polling');
  process.stdout.write(`registration committed → claimed, polling only (cron check every 1 s, worker poll 0.5 s): ${summary(polling)}\n`);
  for (const workers of [1, 2, 4]) {
    const bare = await bareThroughput(url, workers);
    const freshet = await workerThroughput(url, workers);
    process.stdout.write(`claim+complete, ${workers} worker(s), ${JOBS} jobs: JobWorker ${freshet.toFixed(0)} jobs/s; bare statements ${bare.toFixed(0)} jobs/s; ratio ${(freshet / bare).toFixed(2)}\n`);
  }
} finally {
  await stop();
}
