// npm run bench:s3 — partitions and checkpoints on S3 (issue #27), against references in
// the same run, on an S3-protocol server started here (s3rver, loopback) with the real
// @aws-sdk/client-s3:
//   1. Reading the benchmark partitions through the readers (CSV, every row parsed) from
//      the bucket, first with an empty object cache (every object downloaded), then again
//      (conditional GETs answered 304, bytes from the cache), against reading the same files
//      from a local folder. Rounds interleaved; medians. The first pass is split into its
//      download (the raw GetObject bytes, no parsing) and the rest.
//   2. A checkpoint's files written to the bucket by the s3 artifact store's path (each file,
//      the manifest last) against bare PutObject calls of the same bytes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { configureDoors, putObject, readTable } from '../src/data/index.ts';

const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 8);
const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CHECKPOINT_BYTES = Number(process.env.BENCH_CHECKPOINT_BYTES ?? 8 * 2 ** 20);
const COLUMNS = ['x0', 'x1', 'x2', 'x3', 'y'];
const BUCKET = 'freshet-bench';

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function csv(rows: number, seed: number): Buffer {
  let state = seed * 7919 + 17;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = [COLUMNS.join(',')];
  for (let i = 0; i < rows; i++) lines.push(Array.from({ length: COLUMNS.length }, () => (rand() * 100).toFixed(4)).join(','));
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function readAll(files: readonly string[]): Promise<{ seconds: number; rows: number }> {
  const started = performance.now();
  let rows = 0;
  for (const file of files) for await (const chunk of readTable(file, COLUMNS)) rows += chunk.rowCount;
  return { seconds: (performance.now() - started) / 1000, rows };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-bench-s3-'));
const server = new S3rver({ port: 0, address: '127.0.0.1', directory: path.join(root, 's3rver'), silent: true });
const { port } = (await server.run()) as unknown as { port: number };
const endpoint = `http://127.0.0.1:${port}`;
process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
try {
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const local: string[] = [];
  const remote: string[] = [];
  let bytes = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const data = csv(ROWS, p + 1);
    bytes += data.length;
    const file = path.join(root, 'local', `dt=2026-11-${String(p + 1).padStart(2, '0')}`, 'part-0.csv');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    local.push(file);
    const key = `landing/dt=2026-11-${String(p + 1).padStart(2, '0')}/part-0.csv`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));
    remote.push(`s3://${BUCKET}/${key}`);
  }
  console.log(`bench:s3 on ${os.cpus()[0]?.model ?? 'this machine'} (${os.availableParallelism()} cores), Node ${process.version}: ${PARTITIONS} partitions × ${ROWS} rows (${(bytes / 2 ** 20).toFixed(1)} MiB of CSV), ${ROUNDS} rounds`);

  const first: number[] = [];
  const cached: number[] = [];
  const fromDisk: number[] = [];
  const download: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh, empty cache each round: the first pass downloads every object.
    configureDoors({ s3: { endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 3, cache: { dir: path.join(root, `cache-${round}`), bytes: 4 * bytes } } });
    const a = await readAll(remote);
    const b = await readAll(remote);
    const c = await readAll(local);
    if (a.rows !== PARTITIONS * ROWS || b.rows !== a.rows || c.rows !== a.rows) throw new Error(`rows read differ: ${a.rows}, ${b.rows}, ${c.rows}`);
    first.push(a.seconds);
    cached.push(b.seconds);
    fromDisk.push(c.seconds);
    const started = performance.now();
    for (const location of remote) {
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: location.slice(`s3://${BUCKET}/`.length) }));
      await object.Body!.transformToByteArray();
    }
    download.push((performance.now() - started) / 1000);
  }
  const rate = (seconds: number) => `${((PARTITIONS * ROWS) / seconds / 1e6).toFixed(2)} M rows/s`;
  console.log(`\n1. reading through the readers (median of ${ROUNDS})`);
  console.log(`   local folder: ${median(fromDisk).toFixed(3)} s (${rate(median(fromDisk))})`);
  console.log(`   S3, first pass: ${median(first).toFixed(3)} s (${rate(median(first))}): ${(median(fromDisk) / median(first)).toFixed(2)}× local; of it, downloading the objects alone takes ${median(download).toFixed(3)} s`);
  console.log(`   S3, cached pass (304 + local copy): ${median(cached).toFixed(3)} s (${rate(median(cached))}): ${(median(fromDisk) / median(cached)).toFixed(2)}× local (goal ≥ 0.9×)`);

  // 2. A checkpoint's files: the store's path (each file, the manifest last) against bare PutObject calls.
  const files: Record<string, Buffer> = { 'weights.bin': crypto.randomBytes(CHECKPOINT_BYTES), 'optimizer.bin': crypto.randomBytes(CHECKPOINT_BYTES * 2), 'model.json': Buffer.from('{"format":"layers-model"}'), 'state.json': Buffer.from('{"globalStep":1}') };
  files['manifest.json'] = Buffer.from(JSON.stringify({ files: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, { sha256: crypto.createHash('sha256').update(b).digest('hex'), bytes: b.length }])) }));
  const storePath: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    for (const [name, data] of Object.entries(files)) if (name !== 'manifest.json') await putObject(`s3://${BUCKET}/artifacts/r${round}/${name}`, data);
    await putObject(`s3://${BUCKET}/artifacts/r${round}/manifest.json`, files['manifest.json']!);
    storePath.push((performance.now() - started) / 1000);
    started = performance.now();
    for (const [name, data] of Object.entries(files)) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `bare/r${round}/${name}`, Body: data }));
    bare.push((performance.now() - started) / 1000);
  }
  const total = Object.values(files).reduce((n, b) => n + b.length, 0);
  console.log(`\n2. a checkpoint of ${(total / 2 ** 20).toFixed(1)} MiB in ${Object.keys(files).length} files (median of ${ROUNDS})`);
  console.log(`   the s3 store's writes: ${(median(storePath) * 1000).toFixed(1)} ms; bare PutObject calls: ${(median(bare) * 1000).toFixed(1)} ms: ${(median(storePath) / median(bare)).toFixed(2)}×`);
} finally {
  client.destroy();
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
}
