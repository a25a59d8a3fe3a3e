// npm run bench:lineages — what many lineages cost one daemon (issue #26), each figure
// against a reference measured in the same run.
//   1. Memory: the resident set of a daemon process (the real CLI) running 100 idle lineages
//      (each watched, nothing to train) against one running 1 lineage: the cost of an idle
//      lineage is the difference over 99. Also the registry connections each daemon holds.
//   2. Scheduling: 20 lineages each train a first model, then retrains arrive one at a time
//      (an idle worker): per job the wait from enqueue to claim, the work before training
//      (plan, base choice), the training itself and the work after it (gate, export,
//      decision), read from the registry's own timestamps. The queue's share is the wait
//      against the training time.
//   3. Claims: 1,000 queued jobs across 1,000 lineages, claimed one by one with the real
//      claim (the daemon's lineage filter, the concurrency key check) against a bare
//      `FOR UPDATE SKIP LOCKED` claim of the same jobs: p50/p99 and the ratio.
//   4. Predictions: one-row POST /v1/models/<lineage>/predict against 20 loaded models in
//      turn, against one model, and against a bare node:http server answering the same
//      bytes from memory: p50/p99 and the ratios.
// Database: DATABASE_URL, else an embedded server in a temporary folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createLogger } from '../src/core/log.ts';
import { claimJob, completeJob } from '../src/queue/index.ts';
import { migrateToLatest, openRegistry, startEmbeddedPostgres, type Registry } from '../src/registry/index.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';

const BIN = fileURLToPath(new URL('../bin/freshet.mjs', import.meta.url));
const log = createLogger({ level: 'warn', format: 'json' });
const IDLE_LINEAGES = Number(process.env.BENCH_IDLE_LINEAGES ?? 100);
const SERVED_LINEAGES = Number(process.env.BENCH_SERVED_LINEAGES ?? 20);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 1000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);

const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
const ms = (n: number): string => `${n.toFixed(2)} ms`;

async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-lineages-pg-'));
  fs.chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: 0, database: 'freshet_bench', log });
  return { url: server.url, stop: () => server.stop() };
}

/** A fresh database on the server for one part of the run. */
async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = openRegistry(adminUrl, { connectTimeoutSeconds: 10 });
  await sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(admin);
  await sql.raw(`CREATE DATABASE ${name}`).execute(admin);
  await admin.destroy();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function csv(rows: number, seed: number): string {
  let state = seed * 7919 + 17;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['x0,x1,x2,y'];
  for (let i = 0; i < rows; i++) {
    const x = [rand(), rand(), rand()];
    lines.push(`${x.map((v) => v.toFixed(4)).join(',')},${(3 * x[0]! - 2 * x[1]! + x[2]! + (rand() - 0.5) * 0.1).toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

function dropPartition(folder: string, day: number, rows: number, seed: number): void {
  const dir = path.join(folder, `dt=2026-11-${String(day).padStart(2, '0')}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'part-0.csv'), csv(rows, seed));
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

/** A project folder with `count` lineages, each reading its own folder. */
function project(count: number, { train }: { train: boolean }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-lineages-'));
  const names = Array.from({ length: count }, (_, i) => `l${i}`);
  fs.writeFileSync(
    path.join(dir, 'freshet.config.yaml'),
    `artifactsDir: artifacts
servingDir: serving
training: {backend: wasm, batchSize: 64, numCheckpoints: 4, stopPoint: 2, logEvery: 10, earlyCheckpoints: {firstStep: 0}}
retrain: {schedule: "", onArrival: ${train}, virtualEpochs: 2}
eval: {mustBeatNaive: false, confidence: 0}
queue: {pollIntervalSeconds: 1}
http: {port: 0}
log: {level: info, format: json}
columns: {features: [x0, x1, x2], label: y}
lineages:
${names.map((n) => `  ${n}: {dataDir: data/${n}}`).join('\n')}
`,
  );
  for (const [i, name] of names.entries()) dropPartition(path.join(dir, 'data', name), 1, train ? 600 : 50, i + 1);
  return dir;
}

/** Starts `freshet daemon` in a project; resolves with its HTTP address once it runs. */
async function startDaemon(dir: string, url: string) {
  const child = spawn(process.execPath, [BIN, 'daemon'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let httpUrl = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        if (line.includes('"http listening"')) httpUrl = (JSON.parse(line) as { url: string }).url;
        if (line.includes('"freshet running"')) resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the daemon exited ${code}: ${stderr.slice(-3000)}`)));
  });
  return {
    child,
    httpUrl,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

const settle = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

async function connectionsOf(db: Registry, database: string): Promise<number> {
  const rows = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`.execute(db);
  return Number(rows.rows[0]!.n);
}

/** 1. The resident set of an idle daemon with 1 and with IDLE_LINEAGES lineages. */
async function memory(adminUrl: string) {
  const results: Array<{ lineages: number; rss: number; connections: number }> = [];
  for (const count of [1, IDLE_LINEAGES]) {
    const name = `freshet_bench_idle_${count}`;
    const url = await freshDatabase(adminUrl, name);
    const daemon = await startDaemon(project(count, { train: false }), url);
    await settle(5000); // startup scans done, garbage collected at least once
    const admin = openRegistry(url, { connectTimeoutSeconds: 10 });
    results.push({ lineages: count, rss: residentBytes(daemon.child.pid!), connections: await connectionsOf(admin, name) });
    await admin.destroy();
    await daemon.stop();
  }
  const [one, many] = results as [(typeof results)[0], (typeof results)[0]];
  const perLineage = (many.rss - one.rss) / (many.lineages - one.lineages);
  console.log(`\n1. idle daemon, resident set: ${(one.rss / 2 ** 20).toFixed(1)} MiB with 1 lineage, ${(many.rss / 2 ** 20).toFixed(1)} MiB with ${many.lineages}`);
  console.log(`   per idle lineage: ${(perLineage / 2 ** 20).toFixed(2)} MiB (goal ≤ 5 MiB); registry connections: ${one.connections} with 1 lineage, ${many.connections} with ${many.lineages}`);
  return { one, many, perLineage };
}

interface JobTimes {
  lineage: string;
  wait: number;
  before: number;
  train: number;
  after: number;
}

async function jobTimes(db: Registry, where: string): Promise<JobTimes[]> {
  const rows = await sql<{ lineage: string; wait: number; before: number; train: number; after: number }>`
    SELECT j.payload->>'lineage' AS lineage,
           extract(epoch FROM j.locked_at - j.created_at) * 1000 AS wait,
           extract(epoch FROM r.started_at - j.locked_at) * 1000 AS before,
           extract(epoch FROM r.finished_at - r.started_at) * 1000 AS train,
           extract(epoch FROM j.finished_at - r.finished_at) * 1000 AS after
    FROM jobs j JOIN runs r ON r.job_id = j.id
    WHERE j.state = 'succeeded' AND r.status = 'succeeded' AND ${sql.raw(where)}`.execute(db);
  return rows.rows.map((r) => ({ lineage: r.lineage, wait: Number(r.wait), before: Number(r.before), train: Number(r.train), after: Number(r.after) }));
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(200);
  }
}

/** 2 and 4: SERVED_LINEAGES lineages trained in one daemon, then retrains one at a time, then predictions. */
async function servedLineages(adminUrl: string) {
  const url = await freshDatabase(adminUrl, 'freshet_bench_served');
  const dir = project(SERVED_LINEAGES, { train: true });
  const daemon = await startDaemon(dir, url);
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  const champions = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM aliases WHERE name = 'champion'`.execute(db)).rows[0]!.n);
  const idle = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')`.execute(db)).rows[0]!.n) === 0;
  await waitUntil('a champion for every lineage', async () => (await champions()) === SERVED_LINEAGES && (await idle()), 15 * 60_000);
  // Retrains one at a time: an idle worker, woken by NOTIFY.
  const firstRetrain = Number((await sql<{ n: string }>`SELECT coalesce(max(id), 0) AS n FROM jobs`.execute(db)).rows[0]!.n);
  for (let i = 0; i < SERVED_LINEAGES; i++) {
    dropPartition(path.join(dir, 'data', `l${i}`), 2, 600, 100 + i);
    await waitUntil(`the retrain of l${i}`, async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE id > ${firstRetrain} AND state = 'succeeded'`.execute(db)).rows[0]!.n) === i + 1 && (await idle()), 120_000);
  }
  const first = await jobTimes(db, `j.id <= ${firstRetrain}`);
  const retrains = await jobTimes(db, `j.id > ${firstRetrain}`);
  const median = (values: number[]) => quantile(values, 0.5);
  const line = (label: string, jobs: JobTimes[]) =>
    `   ${label} (${jobs.length} jobs), medians: enqueue → claim ${ms(median(jobs.map((j) => j.wait)))}, claim → training ${ms(median(jobs.map((j) => j.before)))}, training ${ms(median(jobs.map((j) => j.train)))}, training → settled ${ms(median(jobs.map((j) => j.after)))}`;
  const queueShare = median(retrains.map((j) => j.wait / j.train));
  const jobShare = median(retrains.map((j) => (j.wait + j.before + j.after) / j.train));
  console.log(`\n2. scheduling, ${SERVED_LINEAGES} lineages in one daemon (${os.availableParallelism()} workers)`);
  console.log(line('first models, all enqueued at once', first));
  console.log(line('retrains one at a time, idle worker', retrains));
  console.log(`   the queue's share of a retrain (enqueue → claim over training): median ${(100 * queueShare).toFixed(2)}% (goal ≤ 5%); everything but training (wait, plan, gate, export) over training: ${(100 * jobShare).toFixed(1)}%`);

  // 4. Predictions.
  const row = JSON.stringify({ rows: [{ x0: 0.2, x1: 0.5, x2: 0.9 }] });
  const post = (lineage: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const request = http.request(`${daemon.httpUrl}/v1/models/${lineage}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(row) }, agent }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${lineage}: HTTP ${response.statusCode}`))));
      });
      request.on('error', reject);
      request.end(row);
    });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const answer = await new Promise<string>((resolve) => {
    const request = http.request(`${daemon.httpUrl}/v1/models/l0/predict`, { method: 'POST', agent }, (response) => {
      let body = '';
      response.on('data', (c: Buffer) => (body += c.toString()));
      response.on('end', () => resolve(body));
    });
    request.end(row);
  });
  const bare = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(answer);
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
  const postBare = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const request = http.request(bareUrl, { method: 'POST', headers: { 'content-length': Buffer.byteLength(row) }, agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - started));
      });
      request.on('error', reject);
      request.end(row);
    });
  for (let i = 0; i < SERVED_LINEAGES; i++) await post(`l${i}`); // every model loaded once
  const many: number[] = [];
  const one: number[] = [];
  const floor: number[] = [];
  // Interleaved, so the machine's noise falls on all three alike.
  for (let i = 0; i < REQUESTS; i++) {
    many.push(await post(`l${i % SERVED_LINEAGES}`));
    one.push(await post('l0'));
    floor.push(await postBare());
  }
  bare.close();
  agent.destroy();
  const describe = (values: number[]) => `p50 ${ms(quantile(values, 0.5))}, p99 ${ms(quantile(values, 0.99))}`;
  console.log(`\n4. one-row predictions (${REQUESTS} requests each, interleaved, keep-alive)`);
  console.log(`   ${SERVED_LINEAGES} models in turn: ${describe(many)}; one model: ${describe(one)}; bare node:http: ${describe(floor)}`);
  console.log(`   p50 ratios: ${SERVED_LINEAGES} models / one ${(quantile(many, 0.5) / quantile(one, 0.5)).toFixed(2)}×, ${SERVED_LINEAGES} models / bare ${(quantile(many, 0.5) / quantile(floor, 0.5)).toFixed(2)}× (goal ≤ 3×)`);
  const rss = residentBytes(daemon.child.pid!);
  console.log(`   the daemon's resident set with ${SERVED_LINEAGES} models loaded: ${(rss / 2 ** 20).toFixed(1)} MiB`);
  const rows = await sql<{ table: string; n: string }>`
    SELECT 'loss_points' AS table, count(*) AS n FROM loss_points UNION ALL SELECT 'checkpoints', count(*) FROM checkpoints
    UNION ALL SELECT 'events', count(*) FROM events UNION ALL SELECT 'jobs', count(*) FROM jobs UNION ALL SELECT 'partitions', count(*) FROM partitions
    UNION ALL SELECT 'promotions', count(*) FROM promotions UNION ALL SELECT 'runs', count(*) FROM runs`.execute(db);
  console.log(`   registry rows after ${SERVED_LINEAGES} first models and ${SERVED_LINEAGES} retrains: ${rows.rows.map((r) => `${r.table} ${r.n}`).join(', ')}`);
  await db.destroy();
  await daemon.stop();
}

/** 3. Claim latency with QUEUED jobs across as many lineages: the real claim against a bare one. */
async function claims(adminUrl: string) {
  const url = await freshDatabase(adminUrl, 'freshet_bench_claims');
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  await migrateToLatest(db);
  const lineages = Array.from({ length: QUEUED }, (_, i) => `l${i}`);
  const fill = async () => {
    await sql`TRUNCATE jobs RESTART IDENTITY CASCADE`.execute(db);
    for (const lineage of lineages) await enqueueRetrain(db, { lineage, lineageId: null, trigger: 'manual', maxAttempts: 3, reason: 'bench' });
  };
  const real: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < 2; round++) {
    await fill();
    for (let i = 0; i < QUEUED / 2; i++) {
      let started = performance.now();
      const job = await claimJob(db, { workerId: 'bench', leaseSeconds: 60, lineages });
      real.push(performance.now() - started);
      await completeJob(db, job!.id, 'bench');
      started = performance.now();
      const claimed = await sql<{ id: string }>`
        UPDATE jobs SET state = 'running', locked_by = 'bare', locked_at = now(), lease_expires_at = now() + interval '60 seconds', attempts = attempts + 1
        WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY priority DESC, run_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING id`.execute(db);
      bare.push(performance.now() - started);
      await completeJob(db, claimed.rows[0]!.id, 'bare');
    }
  }
  await db.destroy();
  console.log(`\n3. claims with ${QUEUED} queued jobs across ${QUEUED} lineages (${real.length} claims each, interleaved)`);
  console.log(`   claimJob (lineage filter, concurrency key, expired leases): p50 ${ms(quantile(real, 0.5))}, p99 ${ms(quantile(real, 0.99))}; bare SKIP LOCKED claim: p50 ${ms(quantile(bare, 0.5))}, p99 ${ms(quantile(bare, 0.99))}; p50 ratio ${(quantile(real, 0.5) / quantile(bare, 0.5)).toFixed(2)}×`);
}

const server = await database();
try {
  console.log(`bench:lineages on ${os.cpus()[0]?.model ?? 'this machine'} (${os.availableParallelism()} cores), Node ${process.version}`);
  await memory(server.url);
  await servedLineages(server.url);
  await claims(server.url);
} finally {
  await server.stop();
}
