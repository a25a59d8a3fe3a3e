// npm run bench:train — training throughput of freshet's trainer against references
// measured in the same run (ratios, because these machines are shared and noisy).
//
// The benchmark MLP: 16 → 64 → 64 → 1, ReLU, Adam 1e-3, MSE, batch 256, 50,000 rows.
// Every variant runs in its own child process (tfjs has one global backend per process),
// in rounds, and the median of the rounds is reported.
//
//   freshet-memory  freshet's TrainStep, pre-built batches in memory (WASM backend)
//   freshet-memory-builtin-grad  the same with tfjs's own matMul gradient (the lever's reference)
//   freshet-memory-tfjs-adam     the same with tfjs's own Adam (the fused Adam lever's reference)
//   freshet-wide, freshet-wide-builtin-grad, pytorch-wide  a wider model where the
//                   arithmetic dominates: 64 → 256 → 256 → 1, batch 1,024 (bench/torch_mlp_wide.py)
//   freshet-stream  freshet's TrainStep fed by the streaming pipeline from CSV partitions
//                   (two epochs: the first parses, the second reads the stream's cache)
//   fit-wasm        plain tfjs model.fit, WASM backend (context)
//   fit-cpu         plain tfjs model.fit, pure-JS cpu backend (reference b)
//   pytorch         ../shared/bench/torch_mlp.py with Debian's python3 (reference c)
//   rss-1x, rss-16x peak RSS streaming 1× and 16× the data (statistics pass + 400 steps)
//   checkpoint      full-state checkpoint writes vs plain write+fsync of the same bytes
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scalar } from '@tensorflow/tfjs';

const ROWS = 50_000;
const DIM = 16;
const STANDARD_DIM = DIM;
const BATCH = 256;
const EPOCHS = 2;
const WARMUP = 20;
const self = fileURLToPath(import.meta.url);
const workDir = path.join(os.tmpdir(), 'freshet-bench-train');

type Result = Record<string, number | string>;

// ---------- data ----------

/** The same data as torch_mlp.py: x ~ N(0, 1), y = x·w + 0.1·noise (seeded here). */
async function syntheticData(rows: number, seed: number, DIM = STANDARD_DIM): Promise<{ x: Float32Array; y: Float32Array }> {
  const { Rng } = await import('../src/core/rng.ts');
  const rng = new Rng(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const w = Array.from({ length: DIM }, normal);
  const x = new Float32Array(rows * DIM);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < DIM; c++) {
      const v = normal();
      x[r * DIM + c] = v;
      sum += v * w[c]!;
    }
    y[r] = sum + 0.1 * normal();
  }
  return { x, y };
}

const FEATURES = Array.from({ length: DIM }, (_, i) => `f${i}`);

/** Writes `copies` × 50k rows as CSV partitions of 10k rows each (once; reused across runs). */
async function csvPartitions(copies: number): Promise<string> {
  const root = path.join(workDir, `csv-${copies}x`);
  if (fs.existsSync(path.join(root, '.complete'))) return root;
  fs.rmSync(root, { recursive: true, force: true });
  for (let copy = 0; copy < copies; copy++) {
    const { x, y } = await syntheticData(ROWS, 1000 + copy);
    for (let part = 0; part < 5; part++) {
      const dir = path.join(root, `dt=2026-11-${String(copy + 1).padStart(2, '0')}`, `part=${part}`);
      fs.mkdirSync(dir, { recursive: true });
      const lines = [`${FEATURES.join(',')},y`];
      for (let r = part * 10_000; r < (part + 1) * 10_000; r++) lines.push(`${Array.from(x.subarray(r * DIM, (r + 1) * DIM)).join(',')},${y[r]}`);
      fs.writeFileSync(path.join(dir, 'data.csv'), `${lines.join('\n')}\n`);
    }
  }
  fs.writeFileSync(path.join(root, '.complete'), '');
  return root;
}

function partitionsUnder(root: string) {
  const out = [];
  for (const day of fs.readdirSync(root).filter((d) => d.startsWith('dt=')).sort()) {
    for (const part of fs.readdirSync(path.join(root, day)).sort()) {
      out.push({ id: `${day}/${part}`, path: `${day}/${part}`, dir: path.join(root, day, part), files: ['data.csv'], rows: 10_000 });
    }
  }
  return out;
}

// ---------- variants (each runs in a child process) ----------

interface Shape {
  dim: number;
  hidden: number[];
  batch: number;
  epochs: number;
}
const STANDARD: Shape = { dim: DIM, hidden: [64, 64], batch: BATCH, epochs: EPOCHS };
const WIDE: Shape = { dim: 64, hidden: [256, 256], batch: 1024, epochs: 2 };

async function freshetStep(source: 'memory' | 'stream', gradient: 'fast' | 'builtin' = 'fast', shape: Shape = STANDARD, adam: 'fused' | 'tfjs' = 'fused'): Promise<Result> {
  const { initBackend, buildMlp, TrainStep, tf, createAdam } = await import('../src/trainer/index.ts');
  await initBackend('wasm');
  const { dim: DIM, batch: BATCH } = shape;
  const STEPS = Math.floor(ROWS / BATCH) * shape.epochs;
  const model = buildMlp({ task: 'regression', hidden: shape.hidden, activation: 'relu', dropout: 0, l2: 0 }, DIM, 0, { gradient });
  // The trainer's optimizer (one fused kernel per variable on WASM), or tfjs's own Adam to measure that lever.
  const optimizer = adam === 'fused' ? createAdam(1e-3) : tf.train.adam(1e-3);
  const step = new TrainStep(model, optimizer, { name: 'mse', fn: (y, p) => tf.losses.meanSquaredError(y, p) as Scalar }, { batchSize: BATCH });
  let next: () => Promise<{ x: Float32Array; y: Float32Array }>;
  let close = async (): Promise<void> => {};
  if (source === 'memory') {
    const { x, y } = await syntheticData(ROWS, 1000, DIM);
    const batches = Array.from({ length: Math.floor(ROWS / BATCH) }, (_, i) => ({
      x: x.slice(i * BATCH * DIM, (i + 1) * BATCH * DIM),
      y: y.slice(i * BATCH, (i + 1) * BATCH),
    }));
    let i = 0;
    next = async () => batches[i++ % batches.length]!;
  } else {
    const { prefetchedBatches } = await import('../src/trainer/stream/prefetch.ts');
    const root = await csvPartitions(1);
    const stats = { features: FEATURES, mean: new Array(DIM).fill(0), std: new Array(DIM).fill(1), count: ROWS };
    const stream = prefetchedBatches(
      partitionsUnder(root),
      // As the trainer streams: with its cache of parsed rows between passes (the second epoch reads it).
      { columns: { features: FEATURES, categorical: [], label: 'y', task: 'regression' }, split: { evalFraction: 1e-9, seed: 1, invalidRows: 'skip' }, stats, batchSize: BATCH, shuffleBuffer: 10_000, cacheDir: path.join(workDir, `stream-cache-${process.pid}`) },
      { pass: 0, offset: 0 },
    );
    next = async () => (await stream.next()).value!;
    close = async () => void (await stream.return(undefined));
  }
  for (let s = 0; s < WARMUP; s++) {
    const b = await next();
    step.run(b.x, b.y, s, false);
  }
  const started = performance.now();
  for (let s = 0; s < STEPS; s++) {
    const b = await next();
    step.run(b.x, b.y, WARMUP + s, (s + 1) % 50 === 0);
  }
  const loss = step.epochLoss();
  const seconds = (performance.now() - started) / 1000;
  await close();
  return { examples_per_second: (STEPS * BATCH) / seconds, seconds, final_mean_loss: loss.sum / loss.count };
}

async function plainFit(backend: 'cpu' | 'wasm'): Promise<Result> {
  const { initBackend, tf } = await import('../src/trainer/index.ts');
  await initBackend(backend);
  const { x, y } = await syntheticData(ROWS, 1000);
  const xs = tf.tensor2d(x, [ROWS, DIM]);
  const ys = tf.tensor2d(y, [ROWS, 1]);
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [DIM], units: 64, activation: 'relu' }), tf.layers.dense({ units: 64, activation: 'relu' }), tf.layers.dense({ units: 1 })],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const epochs = backend === 'cpu' ? 1 : EPOCHS; // the cpu backend is slow; one epoch is plenty to measure
  await model.fit(xs.slice([0, 0], [BATCH * WARMUP, DIM]), ys.slice([0, 0], [BATCH * WARMUP, 1]), { batchSize: BATCH, epochs: 1, verbose: 0 });
  const started = performance.now();
  await model.fit(xs, ys, { batchSize: BATCH, epochs, verbose: 0, shuffle: true });
  const seconds = (performance.now() - started) / 1000;
  return { examples_per_second: (Math.ceil(ROWS / BATCH) * BATCH * epochs) / seconds, seconds };
}

async function rss(copies: number): Promise<Result> {
  const { initBackend, buildMlp, TrainStep, tf, createAdam } = await import('../src/trainer/index.ts');
  const { computeFeatureStats } = await import('../src/trainer/stream/feature-stats.ts');
  const { trainBatches } = await import('../src/trainer/stream/train-batches.ts');
  await initBackend('wasm');
  const root = await csvPartitions(copies);
  const partitions = partitionsUnder(root);
  const columns = { features: FEATURES, categorical: [], label: 'y', task: 'regression' as const };
  const split = { evalFraction: 0.1, seed: 1, invalidRows: 'skip' as const };
  const baseline = process.memoryUsage().rss;
  const stats = await computeFeatureStats(partitions, columns, split); // reads every row
  const model = buildMlp({ task: 'regression', hidden: [64, 64], activation: 'relu', dropout: 0, l2: 0 }, DIM, 0);
  const step = new TrainStep(model, createAdam(1e-3), { name: 'mse', fn: (y, p) => tf.losses.meanSquaredError(y, p) as Scalar }, { batchSize: BATCH });
  const stream = trainBatches(partitions, { columns, split, stats, batchSize: BATCH, shuffleBuffer: 10_000 }, { pass: 0, offset: 0 });
  for (let s = 0; s < 400; s++) {
    const b = (await stream.next()).value!;
    step.run(b.x, b.y, s, false);
  }
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { rows: stats.count, peak_rss_mb: process.resourceUsage().maxRSS / 1024, rss_before_data_mb: baseline / 2 ** 20, heap_used_mb: usage.heapUsed / 2 ** 20, heap_total_mb: usage.heapTotal / 2 ** 20, array_buffers_mb: usage.arrayBuffers / 2 ** 20 };
}

async function checkpointWrites(): Promise<Result> {
  const { initBackend, buildMlp, tf } = await import('../src/trainer/index.ts');
  const { writeCheckpoint } = await import('../src/trainer/checkpoints/checkpoint-io.ts');
  await initBackend('wasm');
  const model = buildMlp({ task: 'regression', hidden: [1024, 1024], activation: 'relu', dropout: 0, l2: 0 }, DIM, 0);
  const optimizer = tf.train.adam(1e-3);
  optimizer.minimize(() => tf.losses.meanSquaredError(tf.zeros([8, 1]), model.forward(tf.ones([8, DIM]), 0)) as Scalar, false, model.variables);
  const dir = path.join(workDir, 'checkpoints');
  fs.rmSync(dir, { recursive: true, force: true });
  const state = { format: 1, adam: { accBeta1: 0.9, accBeta2: 0.999 } } as never;
  // Interleaved pairs (checkpoint, then a plain write+fsync of the same number of bytes in
  // one file), because fsync times on this shared disk swing by 3× between seconds.
  const rounds = 10;
  await writeCheckpoint(path.join(dir, 'warm-up'), model.model, optimizer, state); // JIT, first-touch
  const checkpointRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  const hashedRatios: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    let started = performance.now();
    bytes = (await writeCheckpoint(path.join(dir, `ckpt-${i}`), model.model, optimizer, state)).bytes;
    const checkpointRate = bytes / 2 ** 20 / ((performance.now() - started) / 1000);
    const payload = Buffer.alloc(bytes, 7);
    started = performance.now();
    const fd = fs.openSync(path.join(dir, `raw-${i}.bin`), 'w');
    fs.writeSync(fd, payload);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const rawRate = bytes / 2 ** 20 / ((performance.now() - started) / 1000);
    // The same, plus the sha256 that a verified checkpoint cannot skip (its manifest).
    started = performance.now();
    const hashedFd = fs.openSync(path.join(dir, `raw-hashed-${i}.bin`), 'w');
    fs.writeSync(hashedFd, payload);
    const synced = new Promise((resolve, reject) => fs.fsync(hashedFd, (error) => (error ? reject(error) : resolve(undefined))));
    crypto.createHash('sha256').update(payload).digest();
    await synced;
    fs.closeSync(hashedFd);
    const hashedRate = bytes / 2 ** 20 / ((performance.now() - started) / 1000);
    checkpointRates.push(checkpointRate);
    rawRates.push(rawRate);
    ratios.push(checkpointRate / rawRate);
    hashedRatios.push(checkpointRate / hashedRate);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { checkpoint_mb: bytes / 2 ** 20, checkpoint_mb_per_s: median(checkpointRates), raw_mb_per_s: median(rawRates), median_pair_ratio: median(ratios), median_ratio_to_hashed: median(hashedRatios) };
}

// ---------- orchestration ----------

function child(variant: string): Result {
  const out = execFileSync(process.execPath, ['--expose-gc', self, variant], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Result;
}

/**
 * The PyTorch reference, in the same run. Missing (no script, or Debian's python3 without
 * python3-torch) is a failure, not a zero: a ratio against nothing says nothing.
 */
function pytorch(shape: Shape = STANDARD): Result {
  const wide = shape !== STANDARD;
  const script = wide ? fileURLToPath(new URL('./torch_mlp_wide.py', import.meta.url)) : fileURLToPath(new URL('../../shared/bench/torch_mlp.py', import.meta.url));
  if (!fs.existsSync(script)) throw new Error(`bench:train: the PyTorch reference ${script} is missing`);
  const args = [script, '--rows', String(ROWS), '--dim', String(shape.dim), '--batch', String(shape.batch), '--epochs', String(shape.epochs), ...(wide ? ['--hidden', shape.hidden.join(',')] : [])];
  const run = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`bench:train: the PyTorch reference failed (/usr/bin/python3 ${args.join(' ')}, exit ${run.status ?? run.error?.message}): ${run.stderr.trim().split('\n').at(-1) ?? ''}\ninstall it with: apt-get install -y python3-torch`);
  }
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Result;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const variant = process.argv[2];
  if (variant) {
    const runners: Record<string, () => Promise<Result>> = {
      'freshet-memory': () => freshetStep('memory'),
      'freshet-memory-builtin-grad': () => freshetStep('memory', 'builtin'),
      'freshet-memory-tfjs-adam': () => freshetStep('memory', 'fast', STANDARD, 'tfjs'),
      'freshet-wide': () => freshetStep('memory', 'fast', WIDE),
      'freshet-wide-builtin-grad': () => freshetStep('memory', 'builtin', WIDE),
      'freshet-stream': () => freshetStep('stream'),
      'fit-wasm': () => plainFit('wasm'),
      'fit-cpu': () => plainFit('cpu'),
      'rss-1x': () => rss(1),
      'rss-16x': () => rss(16),
      checkpoint: checkpointWrites,
    };
    const run = runners[variant];
    if (!run) throw new Error(`unknown variant ${variant}`);
    process.stdout.write(`${JSON.stringify(await run())}\n`);
    return;
  }
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  fs.mkdirSync(workDir, { recursive: true });
  await csvPartitions(1);
  pytorch(); // fails loudly, before the long part, when the reference is missing
  const standard = ['freshet-memory', 'freshet-memory-builtin-grad', 'freshet-memory-tfjs-adam', 'freshet-stream', 'fit-wasm', 'fit-cpu'];
  const wide = ['freshet-wide', 'freshet-wide-builtin-grad'];
  const throughput: Record<string, number[]> = Object.fromEntries([...standard, 'pytorch', ...wide, 'pytorch-wide'].map((k) => [k, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const name of standard) throughput[name]!.push(Number(child(name).examples_per_second));
    throughput.pytorch!.push(Number(pytorch().examples_per_second));
    for (const name of wide) throughput[name]!.push(Number(child(name).examples_per_second));
    throughput['pytorch-wide']!.push(Number(pytorch(WIDE).examples_per_second));
    process.stderr.write(`round ${round}/${rounds}: ${Object.entries(throughput).map(([k, v]) => `${k} ${Math.round(v.at(-1) ?? 0)}`).join(', ')}\n`);
  }
  const m = Object.fromEntries(Object.entries(throughput).filter(([, v]) => v.length).map(([k, v]) => [k, median(v)]));
  const rss1 = child('rss-1x');
  const rss16 = child('rss-16x');
  const ckpt = child('checkpoint');
  const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? (a / b).toFixed(2) : 'n/a');
  const lines = [
    `Median of ${rounds} rounds, examples/s (benchmark MLP ${DIM}→64→64→1, batch ${BATCH}, ${ROWS} rows):`,
    '',
    '| variant | examples/s | vs PyTorch | vs fit-cpu |',
    '| --- | --- | --- | --- |',
    ...standard.concat('pytorch').map((k) => `| ${k} | ${Math.round(m[k]!)} | ${ratio(m[k], m.pytorch)} | ${ratio(m[k], m['fit-cpu'])} |`),
    '',
    `Wide model ${WIDE.dim}→${WIDE.hidden.join('→')}→1, batch ${WIDE.batch}, ${ROWS} rows:`,
    '',
    '| variant | examples/s | vs PyTorch (wide) |',
    '| --- | --- | --- |',
    ...wide.concat('pytorch-wide').map((k) => `| ${k} | ${Math.round(m[k]!)} | ${ratio(m[k], m['pytorch-wide'])} |`),
    '',
    `fast dense gradient vs tfjs's own: ${ratio(m['freshet-memory'], m['freshet-memory-builtin-grad'])} (benchmark MLP), ${ratio(m['freshet-wide'], m['freshet-wide-builtin-grad'])} (wide)`,
    `fused Adam vs tfjs's own: ${ratio(m['freshet-memory'], m['freshet-memory-tfjs-adam'])} (benchmark MLP)`,
    `streaming from CSV vs in-memory: ${ratio(m['freshet-stream'], m['freshet-memory'])}`,
    `peak RSS: 1× data (${rss1.rows} train rows) ${Number(rss1.peak_rss_mb).toFixed(0)} MB, 16× data (${rss16.rows} rows) ${Number(rss16.peak_rss_mb).toFixed(0)} MB, ratio ${ratio(Number(rss16.peak_rss_mb), Number(rss1.peak_rss_mb))}`,
    `heap retained after a forced GC: 1× ${Number(rss1.heap_used_mb).toFixed(1)} MB, 16× ${Number(rss16.heap_used_mb).toFixed(1)} MB (RSS before reading data: ${Number(rss1.rss_before_data_mb).toFixed(0)} MB)`,
    `checkpoint write: ${Number(ckpt.checkpoint_mb).toFixed(1)} MB each, median ${Number(ckpt.checkpoint_mb_per_s).toFixed(0)} MB/s vs raw write+fsync ${Number(ckpt.raw_mb_per_s).toFixed(0)} MB/s; median ratio of interleaved pairs ${Number(ckpt.median_pair_ratio).toFixed(2)}; to a raw write+fsync that also hashes (sha256, as the manifest does) ${Number(ckpt.median_ratio_to_hashed).toFixed(2)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
