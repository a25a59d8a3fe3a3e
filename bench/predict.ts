// Prediction throughput and latency (issue #16), each against a reference in the same run.
//   npm run bench:predict                (BENCH_ROWS=200000 BENCH_REQUESTS=400 to change the sizes)
// 1. Batch: `freshet predict`'s core (batchPredict: read CSV, encode, predict, write CSV)
//    on a flights-like file — 7 numeric features, 2 categorical columns of 200 airports —
//    with the champion's export, against the model's own compute on the same rows already
//    in memory (Predictor.predictMatrix): the ratio is what reading, encoding and writing cost.
// 2. Latency: POST /v1/predict with 1 and 100 rows (the champion looked up in the registry
//    on every request, JSON in and out) against a bare node:http server answering a
//    response of the same size from memory on the same machine: p50/p99 and their ratio.
// Database: DATABASE_URL, else an embedded server under .freshet/bench-pg.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { createMetrics, startHttpServer } from '../src/observability/index.ts';
import { claimJob } from '../src/queue/index.ts';
import { findChampion, migrateToLatest, openRegistry, startEmbeddedPostgres } from '../src/registry/index.ts';
import { retrainJobHandler } from '../src/retrain/index.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';
import { batchPredict, ChampionPredictor, exportVersion, predictEndpoint, Predictor } from '../src/serving/index.ts';
import { initBackend } from '../src/trainer/index.ts';
import { registerPartition } from '../src/watcher/index.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const AIRPORTS = Array.from({ length: 200 }, (_, i) => `A${i.toString(36).toUpperCase().padStart(2, '0')}`);
const FEATURES = ['dep_minute', 'weekday', 'distance', 'origin_lat', 'origin_lon', 'dest_lat', 'dest_lon'];

function flightsLike(rows: number, seed: number): string {
  let state = seed * 7919 + 17;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = [`id,${FEATURES.join(',')},origin,destination,arr_delay`];
  for (let i = 0; i < rows; i++) {
    const o = Math.floor(rand() * AIRPORTS.length);
    const d = Math.floor(rand() * AIRPORTS.length);
    const minute = Math.floor(rand() * 1440);
    lines.push(`f${i},${minute},${Math.floor(rand() * 7)},${Math.round(100 + rand() * 2500)},${30 + o / 10},${-120 + o / 5},${30 + d / 10},${-120 + d / 5},${AIRPORTS[o]},${AIRPORTS[d]},${Math.round(minute / 60 + (o % 7) - 3 + (rand() - 0.5) * 30)}`);
  }
  return `${lines.join('\n')}\n`;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function timeRequests(url: string, body: string, n: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-predict-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: path.resolve('.freshet/bench-pg'), port: 0, database: 'freshet_bench_predict', log });
const url = process.env.DATABASE_URL ?? embedded!.url;
const db = openRegistry(url, { connectTimeoutSeconds: 10 });
try {
  await sql`DROP SCHEMA public CASCADE; CREATE SCHEMA public`.execute(db).catch(async () => {
    await sql`DROP SCHEMA public CASCADE`.execute(db);
    await sql`CREATE SCHEMA public`.execute(db);
  });
  await migrateToLatest(db);
  const config = loadConfig({
    cwd: work,
    env: {
      DATABASE_URL: url,
      FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES),
      FRESHET_COLUMNS__CATEGORICAL: JSON.stringify(['origin', 'destination']),
      FRESHET_COLUMNS__LABEL: 'arr_delay',
      FRESHET_TRAINING__BACKEND: 'wasm',
      FRESHET_TRAINING__NUM_CHECKPOINTS: '2',
      FRESHET_TRAINING__STOP_POINT: '1',
      FRESHET_LOG__LEVEL: 'warn',
    },
  });
  for (const day of [1, 2, 3]) {
    const rel = `dt=2026-11-0${day}`;
    fs.mkdirSync(path.join(config.dataDir, rel), { recursive: true });
    fs.writeFileSync(path.join(config.dataDir, rel, 'part-0.csv'), flightsLike(20_000, day));
    fs.writeFileSync(path.join(config.dataDir, rel, '_SUCCESS'), '');
    await registerPartition({ db, root: config.dataDir, relativePath: rel, arrivedAt: new Date(), rules: { numericColumns: [...FEATURES, 'arr_delay'], categoricalColumns: ['origin', 'destination'], invalidRows: 'skip' }, log });
  }
  await initBackend('wasm', log);
  await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 1, reason: 'bench' });
  const claimed = (await claimJob(db, { workerId: 'bench', leaseSeconds: 600 }))!;
  await retrainJobHandler({ db, config, log })(claimed, { signal: new AbortController().signal, leaseLost: () => false, progressed: () => {}, log });
  const champion = (await findChampion(db, config.lineage))?.version;
  if (!champion) throw new Error('the bench model was not promoted; nothing to predict with');
  const predictor = await Predictor.load(await exportVersion(db, config, champion));

  // 1. Batch.
  const input = path.join(work, 'score.csv');
  fs.writeFileSync(input, flightsLike(ROWS, 99));
  const batchStarted = performance.now();
  let bytes = 0;
  const summary = await batchPredict(predictor, { input, idColumn: 'id', format: 'csv', write: (text) => (bytes += text.length) });
  const batchSeconds = (performance.now() - batchStarted) / 1000;
  if (summary.scored !== ROWS) throw new Error(`scored ${summary.scored} of ${ROWS} rows`);
  const x = new Float32Array(ROWS * predictor.width).map((_, i) => (i % predictor.width < FEATURES.length ? (i % 997) / 10 : (i % 200) + 4));
  const computeStarted = performance.now();
  for (let start = 0; start < ROWS; start += 4096) predictor.predictMatrix(x.subarray(start * predictor.width), Math.min(4096, ROWS - start));
  const computeSeconds = (performance.now() - computeStarted) / 1000;
  const batchRate = ROWS / batchSeconds;
  const computeRate = ROWS / computeSeconds;

  // 2. Latency.
  const holder = new ChampionPredictor(db, config, log);
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), readiness: [], log, postRoutes: { '/v1/predict': predictEndpoint(holder) } });
  const rowsOf = (n: number) => JSON.stringify({ rows: Array.from({ length: n }, (_, i) => ({ dep_minute: 600 + i, weekday: 3, distance: 800, origin_lat: 37.6, origin_lon: -122.4, dest_lat: 40.6, dest_lon: -73.8, origin: AIRPORTS[i % 200], destination: AIRPORTS[(i * 7) % 200] })) });
  const latency: Record<string, { freshet: { p50: number; p99: number }; bare: { p50: number; p99: number } }> = {};
  for (const n of [1, 100]) {
    const body = rowsOf(n);
    await timeRequests(`${server.url}/v1/predict`, body, 20); // warm-up: loads the export, JIT
    const answer = await (await fetch(`${server.url}/v1/predict`, { method: 'POST', body })).text();
    const bare = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1/predict`;
    await timeRequests(bareUrl, body, 20);
    latency[n] = { freshet: await timeRequests(`${server.url}/v1/predict`, body, REQUESTS), bare: await timeRequests(bareUrl, body, REQUESTS) };
    bare.close();
  }
  await server.close();
  holder.close();

  const ms = (v: number) => `${v.toFixed(2)} ms`;
  console.log(`batch predict: ${ROWS} rows (7 numeric, 2 categorical) CSV in, CSV out: ${Math.round(batchRate)} rows/s (${batchSeconds.toFixed(2)} s, ${(bytes / 1e6).toFixed(1)} MB written)`);
  console.log(`  reference, the model alone on the same rows in memory: ${Math.round(computeRate)} rows/s; ratio ${(batchRate / computeRate).toFixed(2)}×`);
  for (const [n, l] of Object.entries(latency)) {
    console.log(`POST /v1/predict, ${n} row${n === '1' ? '' : 's'}: p50 ${ms(l.freshet.p50)}, p99 ${ms(l.freshet.p99)}; bare node:http with the same response: p50 ${ms(l.bare.p50)}, p99 ${ms(l.bare.p99)}; ratio p50 ${(l.freshet.p50 / l.bare.p50).toFixed(2)}×, p99 ${(l.freshet.p99 / l.bare.p99).toFixed(2)}× (n=${REQUESTS})`);
  }
  predictor.dispose();
} finally {
  await db.destroy();
  await embedded?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
