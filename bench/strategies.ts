// npm run bench:strategies — does checkpoint selection pay? The experiment of issue #8.
//
// Two drifting taxi-fare streams: `plenty` (a model with plenty of data) and `small-noisy`
// (little, noisy data and a wide model, so it overfits). For each of 5 seeds: a first
// model, then 4 batches of new partitions; after each batch every base policy retrains
// from its own previous model's curve (scratch, last, best-val, pre-plateau, auto), each
// for the same number of steps on the same data (new partitions + a replay window), with
// validation on the new partitions' held-out rows every quarter virtual epoch.
// Reported per regime and policy, mean ± sd over seeds: the eval loss on the fresh rows at
// the end, and the steps each warm start needs to reach the loss scratch ends with (as a
// share of scratch's steps; resolution: a quarter virtual epoch, and step 0 is the base
// itself scored before training). Reference in the same run: scratch itself.
// Database: DATABASE_URL (a server where this role may CREATE DATABASE), else embedded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type ResolvedConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { listRunCheckpoints, migrateToLatest, openRegistry, startEmbeddedPostgres, type Registry } from '../src/registry/index.ts';
import { selectBase } from '../src/selection/index.ts';
import { taxiDate as dateOf, taxiTrips, writeTaxiPartition, TAXI_FEATURES, TAXI_LABEL } from '../src/demo/taxi-fares.ts';
import { checkpointScorer, lineageEvalSet, registeredPartitions, trainRun } from '../src/trainer/index.ts';
import { Rng } from '../src/core/rng.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';

// pre-plateau: the knee rule (plateau.method knee, the default); pre-plateau-epochs: the
// per-virtual-epoch rule it replaced, compared in the same run.
const POLICIES = ['scratch', 'last', 'best-val', 'pre-plateau', 'pre-plateau-epochs', 'auto'] as const;
type Policy = (typeof POLICIES)[number];
const SEEDS = Number(process.env.BENCH_SEEDS ?? 5);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 4);
const log = createLogger({ level: 'warn', format: 'json' });
const never = new AbortController().signal;

interface Regime {
  name: string;
  initialDays: number;
  daysPerBatch: number;
  rowsPerDay: number;
  extraNoise: number;
  env: Record<string, string>;
}

const REGIMES: Regime[] = [
  {
    name: 'plenty',
    initialDays: 6,
    daysPerBatch: 2,
    rowsPerDay: 4000,
    extraNoise: 0,
    env: { FRESHET_MODEL__HIDDEN: '[64,64]', FRESHET_TRAINING__BATCH_SIZE: '256', FRESHET_TRAINING__NUM_CHECKPOINTS: '12', FRESHET_TRAINING__STOP_POINT: '4', FRESHET_TRAINING__LEARNING_RATE: '0.003' },
  },
  {
    name: 'small-noisy',
    initialDays: 3,
    daysPerBatch: 1,
    rowsPerDay: 300,
    extraNoise: 12,
    env: { FRESHET_MODEL__HIDDEN: '[128,128]', FRESHET_TRAINING__BATCH_SIZE: '32', FRESHET_TRAINING__NUM_CHECKPOINTS: '12', FRESHET_TRAINING__STOP_POINT: '30', FRESHET_TRAINING__LEARNING_RATE: '0.003' },
  },
];

const RETRAIN_EPOCHS = 4;

async function server(): Promise<{ adminUrl: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
  const embedded = await startEmbeddedPostgres({ dataDir: path.resolve('.freshet/bench-pg'), port: 0, database: 'freshet_bench', log });
  return { adminUrl: embedded.url, stop: () => embedded.stop() };
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name}`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function writeDay(regime: Regime, dataDir: string, day: number, seed: number): void {
  const trips = taxiTrips({ day, rows: regime.rowsPerDay, shiftDay: 10_000, seed });
  if (regime.extraNoise) {
    const rng = new Rng(seed * 7919 + day);
    for (const trip of trips) trip[trip.length - 1] = Math.round((trip.at(-1)! + (rng.next() - 0.5) * 2 * regime.extraNoise) * 100) / 100;
  }
  writeTaxiPartition(dataDir, dateOf(day), trips);
}

interface BatchResult {
  regime: string;
  seed: number;
  batch: number;
  policy: Policy;
  finalLoss: number;
  /** Steps (from the run's start) to reach scratch's final loss; null: never within the run. */
  stepsToScratch: number | null;
  totalSteps: number;
  baseEpoch: number | null;
}

async function runStream(regime: Regime, seed: number, adminUrl: string, work: string): Promise<BatchResult[]> {
  const dbName = `freshet_strategies_${regime.name.replace('-', '_')}_${seed}`;
  const url = await freshDatabase(adminUrl, dbName);
  const db: Registry = openRegistry(url, { connectTimeoutSeconds: 10 });
  await migrateToLatest(db);
  const dir = path.join(work, `${regime.name}-${seed}`);
  const config = (policy: Policy, more: Record<string, string> = {}): ResolvedConfig =>
    loadConfig({
      env: {
        DATABASE_URL: url,
        FRESHET_DATA_DIR: path.join(dir, 'data'),
        FRESHET_ARTIFACTS_DIR: path.join(dir, 'artifacts'),
        FRESHET_COLUMNS__FEATURES: JSON.stringify(TAXI_FEATURES),
        FRESHET_COLUMNS__LABEL: TAXI_LABEL,
        FRESHET_TRAINING__BACKEND: 'wasm',
        FRESHET_TRAINING__SEED: String(seed),
        FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
        FRESHET_TRAINING__EARLY_STOPPING__RESTORE_BEST_WEIGHTS: 'false',
        FRESHET_TRAINING__RETENTION__KEEP_LAST: '100000',
        FRESHET_RETRAIN__BASE: policy === 'pre-plateau-epochs' ? 'pre-plateau' : policy,
        FRESHET_PLATEAU__METHOD: policy === 'pre-plateau-epochs' ? 'epochs' : 'knee',
        FRESHET_RETRAIN__REPLAY_PARTITIONS: '2',
        FRESHET_RETRAIN__REPLAY_FRACTION: '0.5',
        ...regime.env,
        ...more,
      },
      cwd: dir,
    });
  const register = async (): Promise<void> => {
    await new PartitionWatcher({ db, config: config('last'), log }).scan();
  };
  try {
    for (let day = 0; day < regime.initialDays; day++) writeDay(regime, path.join(dir, 'data'), day, seed);
    await register();
    const first = await trainRun({ db, config: config('last'), log, signal: never, kind: 'initial' });
    const lineage = await db.selectFrom('lineages').selectAll().executeTakeFirstOrThrow();
    const spe = lineage.steps_per_epoch;
    const heads = new Map<Policy, string>(POLICIES.map((p) => [p, first.runId]));
    const results: BatchResult[] = [];
    let day = regime.initialDays;
    for (let batch = 1; batch <= BATCHES; batch++) {
      const newDates = Array.from({ length: regime.daysPerBatch }, (_, i) => dateOf(day + i));
      for (let i = 0; i < regime.daysPerBatch; i++) writeDay(regime, path.join(dir, 'data'), day + i, seed);
      day += regime.daysPerBatch;
      await register();
      const registered = await registeredPartitions(db, { dataDir: path.join(dir, 'data') });
      const fresh = registered.filter((p) => newDates.some((d) => p.path === `dt=${d}`));
      const older = registered.filter((p) => !fresh.includes(p));
      const replay = older.slice(-2).map((p) => ({ ...p, replay: true, sample: 0.5 }));
      const evalSet = await lineageEvalSet(db, config('last'), lineage.id, fresh);
      const curves = new Map<Policy, { start: number; points: Array<{ step: number; loss: number }>; baseEpoch: number | null }>();
      for (const policy of POLICIES) {
        const policyConfig = config(policy, { FRESHET_TRAINING__CHECKPOINT_EVERY: String(Math.max(1, Math.floor(spe / 4))) });
        const selection = await selectBase(db, policyConfig, heads.get(policy), checkpointScorer(db, policyConfig, evalSet), log);
        const result = await trainRun({
          db,
          config: policyConfig,
          log,
          signal: never,
          kind: 'retrain',
          partitions: [...fresh, ...replay],
          evalPartitions: fresh,
          evalSet,
          virtualEpochs: RETRAIN_EPOCHS,
          ...(selection.chosen ? { fromCheckpointId: selection.chosen.checkpointId } : {}),
        });
        heads.set(policy, result.runId);
        const checkpoints = await listRunCheckpoints(db, result.runId);
        const start = selection.chosen?.globalStep ?? 0;
        // Step 0 is the base itself, scored on the same fresh rows before training.
        const atStart = selection.chosen?.score !== undefined && selection.chosen.score !== null ? [{ step: 0, loss: selection.chosen.score }] : [];
        curves.set(policy, { start, points: [...atStart, ...checkpoints.map((c) => ({ step: Number(c.global_step) - start, loss: c.val_loss! }))], baseEpoch: selection.chosen?.virtualEpoch ?? null });
      }
      const scratchFinal = curves.get('scratch')!.points.at(-1)!.loss;
      for (const policy of POLICIES) {
        const curve = curves.get(policy)!;
        const reached = curve.points.find((p) => p.loss <= scratchFinal);
        results.push({ regime: regime.name, seed, batch, policy, finalLoss: curve.points.at(-1)!.loss, stepsToScratch: reached?.step ?? null, totalSteps: RETRAIN_EPOCHS * spe, baseEpoch: curve.baseEpoch });
      }
      process.stderr.write(`  ${regime.name} seed ${seed} batch ${batch}: ${POLICIES.map((p) => `${p} ${curves.get(p)!.points.at(-1)!.loss.toPrecision(4)}`).join(', ')}\n`);
    }
    return results;
  } finally {
    await db.destroy();
  }
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]): number => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)) * (v.length / Math.max(1, v.length - 1)));

function report(results: BatchResult[]): string {
  const lines: string[] = [];
  for (const regime of REGIMES) {
    lines.push(`\n### ${regime.name}`, '', '| policy | eval loss on fresh rows, mean ± sd over seeds (of the mean over batches) | vs scratch, same seed: mean ± sd | vs last, same seed: mean ± sd | steps to scratch\'s final loss, share of scratch\'s steps (median over batches and seeds) | runs that never reach it |', '| --- | --- | --- | --- | --- | --- |');
    const bySeed = (policy: Policy, seed: number): number => mean(results.filter((r) => r.regime === regime.name && r.seed === seed && r.policy === policy).map((r) => r.finalLoss));
    const seeds = Array.from({ length: SEEDS }, (_, i) => i + 1);
    for (const policy of POLICIES) {
      const rows = results.filter((r) => r.regime === regime.name && r.policy === policy);
      const perSeed = seeds.map((seed) => bySeed(policy, seed));
      const vsScratch = seeds.map((seed) => bySeed(policy, seed) / bySeed('scratch', seed));
      const vsLast = seeds.map((seed) => bySeed(policy, seed) / bySeed('last', seed));
      const shares = rows.filter((r) => r.stepsToScratch !== null).map((r) => r.stepsToScratch! / r.totalSteps).sort((a, b) => a - b);
      const never = rows.filter((r) => r.stepsToScratch === null).length;
      const median = shares.length ? shares[Math.floor(shares.length / 2)]! : Number.NaN;
      lines.push(`| ${policy} | ${mean(perSeed).toPrecision(4)} ± ${sd(perSeed).toPrecision(2)} | ${mean(vsScratch).toFixed(3)} ± ${sd(vsScratch).toFixed(3)} | ${mean(vsLast).toFixed(3)} ± ${sd(vsLast).toFixed(3)} | ${policy === 'scratch' ? '100% (by definition)' : `${(100 * median).toFixed(0)}%`} | ${never} of ${rows.length} |`);
    }
  }
  return lines.join('\n');
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-strategies-'));
fs.chmodSync(work, 0o755);
const { adminUrl, stop } = await server();
const started = performance.now();
try {
  const results: BatchResult[] = [];
  for (const regime of REGIMES) for (let seed = 1; seed <= SEEDS; seed++) results.push(...(await runStream(regime, seed, adminUrl, work)));
  const out = path.resolve('.freshet/bench-strategies.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  process.stdout.write(`${report(results)}\n\n${SEEDS} seeds × ${BATCHES} batches × ${POLICIES.length} policies per regime, ${((performance.now() - started) / 1000).toFixed(0)} s; raw results in ${out}\n`);
} finally {
  await stop();
  fs.rmSync(work, { recursive: true, force: true });
}
