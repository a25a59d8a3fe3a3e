// npm run bench:watch — partition detection latency and hashing throughput.
//
// 1. Latency: a feeder process writes 1,000 partitions at 50 per second (three small CSV
//    files, then `_SUCCESS`); the watcher (this process) registers them into PostgreSQL.
//    Latency = marker mtime → registration committed, as freshet_partition_detect_seconds
//    defines it. Database: DATABASE_URL, else an embedded server under .freshet/bench-pg.
// 2. Throughput: freshet's hash pass over 256 MiB of CSV against a bare Node
//    `crypto.createHash('sha256')` stream over the same files, interleaved, 3 rounds;
//    plus the validation pass (rows counted exactly, every value checked), in the same rounds.
// 3. The statistics pass (issue #28): the validation pass with the partition's statistics
//    (statistics: true, the default) against the same pass without them (statistics:
//    false), interleaved, on the 256 MiB above and on the January–March 2001 flights
//    (vega-datasets, 90 daily partitions with 2 categorical columns). The bar: under 15% more.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { migrateToLatest, openRegistry, startEmbeddedPostgres } from '../src/registry/index.ts';
import { PartitionWatcher, hashPartition, validatePartition } from '../src/watcher/index.ts';
import type { ValidationRules } from '../src/watcher/inspect-partition.ts';
import { FLIGHTS_HEADER, flightDays } from './flights-data.ts';

const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 1000);
const RATE = 50;
const log = createLogger({ level: (process.env.BENCH_LOG_LEVEL ?? 'warn') as 'warn', format: 'json' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-watch-'));
fs.chmodSync(work, 0o755);

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: path.resolve('.freshet/bench-pg'), port: 0, database: 'freshet_bench', log });
  return { url: server.url, stop: () => server.stop() };
}

const FEEDER = `
const fs = require('node:fs'); const path = require('node:path');
const [root, count, rate] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const rows = Array.from({ length: 100 }, (_, i) => [i, i * 0.5, i % 7, i / 3, i * 2].join(',')).join('\\n');
let i = 0;
const started = Date.now();
const tick = () => {
  const due = Math.min(count, Math.floor(((Date.now() - started) * rate) / 1000) + 1);
  for (; i < due; i++) {
    const dir = path.join(root, 'dt=2026-11-26', 'seq=' + i);
    fs.mkdirSync(dir, { recursive: true });
    // A first row of its own: partitions with the same bytes are duplicate copies (a warning each), not ordinary arrivals.
    for (let f = 0; f < 3; f++) fs.writeFileSync(path.join(dir, 'part-' + f + '.csv'), 'x0,x1,x2,x3,y\\n' + i + ',' + f + ',0,0,0\\n' + rows + '\\n');
    fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
  }
  if (i < count) setTimeout(tick, 5);
};
tick();
`;

async function latency(url: string): Promise<string> {
  const db = openRegistry(url, { connectTimeoutSeconds: 10 });
  await migrateToLatest(db);
  await db.deleteFrom('events').execute();
  await db.deleteFrom('partitions').where('path', 'like', 'dt=2026-11-26/seq=%').execute();
  const dataDir = path.join(work, 'data');
  const config = loadConfig({
    env: { FRESHET_DATA_DIR: dataDir, FRESHET_COLUMNS__FEATURES: '["x0","x1","x2","x3"]', FRESHET_COLUMNS__LABEL: 'y', FRESHET_WATCHER__RESCAN_INTERVAL_SECONDS: '0' },
    cwd: work,
  });
  const watcher = new PartitionWatcher({ db, config, log });
  const latencies: number[] = [];
  let failures = 0;
  watcher.on('outcome', (outcome) => {
    if (outcome.kind === 'registered') latencies.push(Date.now() - outcome.partition.arrived_at.getTime());
  });
  watcher.on('failure', () => (failures += 1));
  await watcher.start();
  const feeder = spawn(process.execPath, ['-e', FEEDER, dataDir, String(PARTITIONS), String(RATE)], { stdio: 'inherit' });
  const feederExited = new Promise((resolve) => feeder.on('exit', resolve));
  const started = Date.now();
  while (latencies.length + failures < PARTITIONS && Date.now() - started < PARTITIONS * 1000) await new Promise((resolve) => setTimeout(resolve, 100));
  await feederExited;
  await watcher.stop();
  await db.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return [
    `detection latency, marker mtime → row committed, ${sorted.length} partitions at ${RATE}/s (3 CSV files each), failures ${failures}:`,
    `  p50 ${quantile(sorted, 0.5)} ms, p90 ${quantile(sorted, 0.9)} ms, p99 ${quantile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms`,
  ].join('\n');
}

async function bareHash(dir: string): Promise<void> {
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('_')) continue;
    const hash = crypto.createHash('sha256');
    for await (const chunk of fs.createReadStream(path.join(dir, name), { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    hash.digest('hex');
  }
}

async function throughput(): Promise<string> {
  const dir = path.join(work, 'big', 'dt=2026-11-26');
  fs.mkdirSync(dir, { recursive: true });
  const line = 'x0,x1,x2,x3,y\n';
  const row = '0.123456,1.234567,2.345678,3.456789,4.567891\n';
  const block = row.repeat(Math.floor((8 << 20) / row.length));
  for (let f = 0; f < 8; f++) {
    const fd = fs.openSync(path.join(dir, `part-${f}.csv`), 'w');
    fs.writeSync(fd, line);
    for (let b = 0; b < 4; b++) fs.writeSync(fd, block);
    fs.closeSync(fd);
  }
  const bytes = fs.readdirSync(dir).reduce((n, name) => n + fs.statSync(path.join(dir, name)).size, 0);
  const mb = bytes / 2 ** 20;
  const rates = { bare: [] as number[], freshet: [] as number[], validation: [] as number[] };
  await bareHash(dir); // warm the page cache: both sides read from memory
  const content = await hashPartition(dir);
  let validation = { rowCount: 0 };
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    await bareHash(dir);
    rates.bare.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    await hashPartition(dir);
    rates.freshet.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    validation = await validatePartition(dir, content.files, { numericColumns: ['x0', 'x1', 'x2', 'x3', 'y'], invalidRows: 'skip', statistics: false });
    rates.validation.push(mb / ((performance.now() - t) / 1000));
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[1]!;
  return [
    `hashing ${mb.toFixed(0)} MiB of CSV (8 files), median of 3 interleaved rounds:`,
    `  bare createHash stream ${median(rates.bare).toFixed(0)} MB/s; freshet hash pass ${median(rates.freshet).toFixed(0)} MB/s; ratio ${(median(rates.freshet) / median(rates.bare)).toFixed(2)}`,
    `  (rounds: bare ${rates.bare.map((r) => r.toFixed(0)).join(' / ')}; freshet ${rates.freshet.map((r) => r.toFixed(0)).join(' / ')})`,
    `row counting = the validation pass (parses every value of 5 numeric columns, ${validation.rowCount} rows): ${median(rates.validation).toFixed(0)} MB/s, ratio ${(median(rates.validation) / median(rates.bare)).toFixed(2)}`,
    `  (rounds: ${rates.validation.map((r) => r.toFixed(0)).join(' / ')})`,
  ].join('\n');
}

/**
 * The validation pass with and without statistics over `dirs`, in interleaved rounds; per
 * round the ratio of the two, on CPU time (user + system: less disturbed than wall time by
 * the other tenants of a shared machine) and on wall time; the medians of those ratios.
 */
async function statisticsCost(name: string, dirs: string[], rules: ValidationRules, rounds = Number(process.env.BENCH_ROUNDS ?? 15)): Promise<string> {
  const contents = await Promise.all(dirs.map(async (dir) => ({ dir, files: (await hashPartition(dir)).files })));
  const pass = async (statistics: boolean): Promise<{ cpu: number; wall: number }> => {
    const [cpu, wall] = [process.cpuUsage(), performance.now()];
    for (const { dir, files } of contents) await validatePartition(dir, files, { ...rules, statistics });
    const used = process.cpuUsage(cpu);
    return { cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wall) / 1000 };
  };
  await pass(true); // warm: page cache, compiled patterns
  await pass(false);
  const ratios = { cpu: [] as number[], wall: [] as number[] };
  const seconds = { with: [] as number[], without: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always inherits the other's garbage.
    let a: { cpu: number; wall: number };
    let b: { cpu: number; wall: number };
    if (round % 2) {
      a = await pass(true);
      b = await pass(false);
    } else {
      b = await pass(false);
      a = await pass(true);
    }
    ratios.cpu.push(a.cpu / b.cpu);
    ratios.wall.push(a.wall / b.wall);
    seconds.with.push(a.cpu);
    seconds.without.push(b.cpu);
  }
  const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const more = (r: number): string => `${((r - 1) * 100).toFixed(1)}%`;
  return [
    `statistics pass, ${name}: with statistics ${more(median(ratios.cpu))} more CPU time than without (median of ${rounds} interleaved pairs; wall time ${more(median(ratios.wall))}); CPU seconds with ${median(seconds.with).toFixed(3)}, without ${median(seconds.without).toFixed(3)}`,
    `  (CPU ratios: ${ratios.cpu.map((r) => r.toFixed(3)).join(' / ')})`,
  ].join('\n');
}

async function flightsDirs(): Promise<string[]> {
  const root = path.join(work, 'flights');
  const dirs: string[] = [];
  for (const [day, lines] of (await flightDays()).days) {
    const dir = path.join(root, `dt=${day}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'part-0.csv'), `${FLIGHTS_HEADER}\n${lines.join('\n')}\n`);
    dirs.push(dir);
  }
  return dirs;
}

const { url, stop } = await database();
try {
  if (process.env.BENCH_ONLY !== 'statistics') {
    process.stdout.write(`${await latency(url)}\n`);
    process.stdout.write(`${await throughput()}\n`);
  }
  if (process.env.BENCH_ONLY !== 'statistics') {
    process.stdout.write(`${await statisticsCost('256 MiB of CSV, 5 numeric columns (8 files)', [path.join(work, 'big', 'dt=2026-11-26')], { numericColumns: ['x0', 'x1', 'x2', 'x3', 'y'], invalidRows: 'skip' })}\n`);
  }
  process.stdout.write(`${await statisticsCost('the January–March 2001 flights (90 daily partitions, 8 numeric and 2 categorical columns)', await flightsDirs(), { numericColumns: ['dep_minute', 'weekday', 'distance', 'origin_lat', 'origin_lon', 'dest_lat', 'dest_lon', 'arr_delay'], categoricalColumns: ['origin', 'destination'], invalidRows: 'skip' })}\n`);
} finally {
  await stop();
  fs.rmSync(work, { recursive: true, force: true });
}
