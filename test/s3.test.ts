// Partitions on object storage (issue #27, first part): a lineage whose dataDir is an S3
// prefix, against a real S3-protocol server (s3rver, started here on loopback) with the
// real @aws-sdk/client-s3. The daemon registers the bucket's partitions (keys with spaces,
// unicode and `=` in values; CSV streamed, Parquet by byte ranges), trains and serves from them, polls for new ones, rejects a
// partition whose marker has no data naming its key, and refuses a missing bucket or wrong
// credentials at start naming the bucket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { cleanEnv, runFreshet, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { FEATURES, LABEL, syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { waitFor } from './support/wait.ts';
import { S3_CREDENTIALS, startS3 } from './support/s3-server.ts';
import { S3FaultProxy } from './support/s3-fault-proxy.ts';
import { s3FileDoor } from '../src/data/index.ts';
import { S3PartitionSource } from '../src/watcher/s3-source.ts';
import { createLogger } from '../src/core/log.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';

const BUCKET = 'freshet-landing';
const CREDENTIALS = S3_CREDENTIALS;

function csvBytes(rows: number[][]): Buffer {
  const file = path.join(tempDir('freshet-s3-csv-'), 'part.csv');
  writeCsv(file, rows);
  return fs.readFileSync(file);
}

/** A partition as a producer uploads it: the data objects, then the marker. */
async function upload(client: S3Client, partition: string, files: Record<string, Buffer>, marker = true): Promise<void> {
  for (const [name, body] of Object.entries(files)) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `landing/${partition}/${name}`, Body: body }));
  if (marker) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `landing/${partition}/_SUCCESS`, Body: '' }));
}

function writeProject(dir: string, endpoint: string, dataDir = `s3://${BUCKET}/landing`, extra = ''): void {
  fs.writeFileSync(
    path.join(dir, 'freshet.config.yaml'),
    `dataDir: ${JSON.stringify(dataDir)}
artifactsDir: artifacts
servingDir: serving
s3: {endpoint: ${JSON.stringify(endpoint)}, forcePathStyle: true, pollSeconds: 0.5, maxAttempts: 2}
training: {backend: wasm, batchSize: 64, numCheckpoints: 4, stopPoint: 1, minSteps: 0, extraEpochs: 0, logEvery: 5, shuffleBuffer: 500, earlyCheckpoints: {firstStep: 0}}
retrain: {schedule: "", virtualEpochs: 2}
eval: {mustBeatNaive: false}
queue: {pollIntervalSeconds: 0.5, concurrency: 1}
http: {port: 0}
log: {level: info, format: json}
columns: {features: [x0, x1, x2, x3], label: y}
${extra}`,
  );
}

describe('partitions in an S3 bucket', () => {
  test('the daemon registers, trains on and serves from an s3:// prefix, polls it for new partitions, and names a bad one by its key', { timeout: 180_000 }, async () => {
    const { endpoint, client } = await startS3(BUCKET);
    await upload(client, 'dt=2026-11-01', { 'part 0 é.csv': csvBytes(syntheticRows(600, 1)) });
    // Parquet, read by byte ranges (its footer, then its column chunks) on the validation thread and the training thread.
    const rows = syntheticRows(600, 2);
    const parquet = Buffer.from(parquetWriteBuffer({ columnData: [...FEATURES, LABEL].map((name, i) => ({ name, data: Float64Array.from(rows, (r) => r[i]!), type: 'DOUBLE' as const })) }));
    await upload(client, 'dt=2026-11-02/city=São Paulo', { 'x=1.parquet': parquet });
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-s3-project-');
    writeProject(dir, endpoint);
    const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, ...CREDENTIALS }), cwd: dir });
    after(() => daemon.child.kill('SIGKILL'));
    const listening = await daemon.waitForLog('http listening');
    await daemon.waitForLog('freshet running');
    const source = `s3://${BUCKET}/landing`;
    const registered = await waitFor('both partitions registered', async () => {
      const rows = await sql<{ source: string; path: string; row_count: string }>`SELECT source, path, row_count FROM partitions WHERE status = 'registered' ORDER BY path`.execute(db);
      return rows.rows.length === 2 && rows.rows;
    }, 90_000);
    assert.deepEqual(registered.map((r) => [r.source, r.path, Number(r.row_count)]), [[source, 'dt=2026-11-01', 600], [source, 'dt=2026-11-02/city=São Paulo', 600]]);

    // Trained on the bucket's objects and served.
    // The champion, and its export (written after the deciding transaction, before the job settles).
    const exported = path.join(dir, 'serving', 'default', 'current', 'metadata.json');
    await waitFor('a champion, exported', async () => (await sql<{ n: string }>`SELECT count(*) AS n FROM aliases WHERE name = 'champion'`.execute(db)).rows[0]!.n === '1' && fs.existsSync(exported), 120_000, 250);
    const metadata = JSON.parse(fs.readFileSync(exported, 'utf8')) as { lineage: string };
    assert.equal(metadata.lineage, 'default');
    const answer = await fetch(`${String(listening.url)}/v1/predict`, { method: 'POST', body: JSON.stringify({ rows: [{ x0: 0.1, x1: 0.2, x2: 0.3, x3: 0.4 }] }) });
    assert.equal(answer.status, 200);

    // Polling finds a partition uploaded later; one whose marker came without data is rejected naming its key.
    await upload(client, 'dt=2026-11-03', { 'part-0.csv': csvBytes(syntheticRows(600, 3)) });
    await upload(client, 'dt=2026-11-04', {});
    const later = await waitFor('the later partitions recorded', async () => {
      const rows = await sql<{ path: string; status: string; error: string | null }>`SELECT path, status, error FROM partitions WHERE path IN ('dt=2026-11-03', 'dt=2026-11-04') ORDER BY path`.execute(db);
      return rows.rows.length === 2 && rows.rows;
    }, 90_000);
    assert.deepEqual(later.map((r) => [r.path, r.status]), [['dt=2026-11-03', 'registered'], ['dt=2026-11-04', 'rejected']]);
    assert.match(later[1]!.error!, /^dt=2026-11-04: empty partition: no data files/, 'named by its key under the prefix, as a local partition by its path under dataDir');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });

  test('a missing bucket and wrong credentials stop the daemon at start with exit 2, naming the bucket', { timeout: 60_000 }, async () => {
    const { endpoint } = await startS3(BUCKET);
    const { url } = await createTestDatabase();
    const dir = tempDir('freshet-s3-bad-');
    writeProject(dir, endpoint, 's3://no-such-bucket/landing');
    const missing = await runFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, ...CREDENTIALS }), cwd: dir });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /s3:\/\/no-such-bucket\/landing: listing the bucket no-such-bucket failed: NoSuchBucket/);
    writeProject(dir, endpoint);
    // s3rver checks the access key id, not SigV4 signatures: a wrong key id is its wrong credentials.
    const refused = await runFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, ...CREDENTIALS, AWS_ACCESS_KEY_ID: 'NOBODY' }), cwd: dir });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /s3:\/\/freshet-landing\/landing: listing the bucket freshet-landing failed: (SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied)/);
  });

  test('two machines (separate folders, no shared disk) share one registry and one bucket: the second resumes the first\'s killed run from its checkpoint in the bucket, and either serves the champion', { timeout: 240_000 }, async () => {
    const { endpoint, client } = await startS3(BUCKET);
    await upload(client, 'dt=2026-11-01', { 'part-0.csv': csvBytes(syntheticRows(1500, 11)) });
    await upload(client, 'dt=2026-11-02', { 'part-0.csv': csvBytes(syntheticRows(1500, 12)) });
    const { db, url } = await createTestDatabase();
    // Long enough runs to interrupt; artifacts in the bucket; a short lease, so the second machine takes over soon.
    const extra = `artifactStore: s3\nartifactsUri: "s3://${BUCKET}/artifacts"\n`;
    const machines = ['a', 'b'].map((name) => {
      const dir = tempDir(`freshet-s3-machine-${name}-`);
      writeProject(dir, endpoint, `s3://${BUCKET}/landing`, extra);
      const text = fs.readFileSync(path.join(dir, 'freshet.config.yaml'), 'utf8')
        .replace('numCheckpoints: 4, stopPoint: 1', 'numCheckpoints: 20, stopPoint: 40, earlyStopping: {enabled: false}')
        .replace('queue: {pollIntervalSeconds: 0.5, concurrency: 1}', 'queue: {pollIntervalSeconds: 0.5, concurrency: 1, leaseSeconds: 3, heartbeatSeconds: 0.5}');
      fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), text);
      return dir;
    });
    const env = cleanEnv({ DATABASE_URL: url, ...CREDENTIALS });
    const first = spawnFreshet(['daemon'], { env, cwd: machines[0]! });
    after(() => first.child.kill('SIGKILL'));
    const inBucket = await waitFor('a checkpoint in the bucket', async () => (await sql<{ run_id: string; global_step: string }>`SELECT run_id, global_step FROM checkpoints WHERE store = 's3' ORDER BY id LIMIT 1`.execute(db)).rows[0], 120_000, 50);
    first.child.kill('SIGKILL');
    await first.exited;
    const stepsBefore = Number((await sql<{ n: string }>`SELECT max(global_step) AS n FROM checkpoints`.execute(db)).rows[0]!.n);

    // The second machine has no copy of anything: it resumes the run from the bucket.
    const second = spawnFreshet(['daemon'], { env, cwd: machines[1]! });
    after(() => second.child.kill('SIGKILL'));
    const listening = await second.waitForLog('http listening');
    await waitFor('the job finished by the second machine', async () => (await sql<{ state: string }>`SELECT state FROM jobs ORDER BY id LIMIT 1`.execute(db)).rows[0]?.state === 'succeeded', 180_000, 250);
    const runs = await sql<{ id: string; status: string }>`SELECT id, status FROM runs`.execute(db);
    assert.deepEqual(runs.rows.map((r) => [r.id, r.status]), [[inBucket.run_id, 'succeeded']], 'one run, resumed, not started over');
    const resumedFrom = await second.waitForLog('resuming run');
    assert.equal(Number(resumedFrom.fromStep), stepsBefore, 'resumed from the newest checkpoint the first machine put in the bucket');
    // Every checkpoint row is in the s3 store, and the champion's export is published with its pointer.
    const stores = await sql<{ store: string }>`SELECT DISTINCT store FROM checkpoints`.execute(db);
    assert.deepEqual(stores.rows.map((r) => r.store), ['s3']);
    // Retention deleted through the store: the bucket holds exactly the checkpoints that still have a row, each with its manifest.
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'artifacts/checkpoints/', ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const inBucketDirs = [...new Set(keys.map((k) => k.slice('artifacts/'.length, k.lastIndexOf('/'))))].sort();
    const rowUris = (await sql<{ uri: string }>`SELECT uri FROM checkpoints ORDER BY uri`.execute(db)).rows.map((r) => r.uri).sort();
    assert.deepEqual(inBucketDirs, rowUris);
    assert.ok(rowUris.length < 20, `retention kept ${rowUris.length} of the run's 20 virtual epochs' checkpoints`);
    for (const uri of rowUris) assert.ok(keys.includes(`artifacts/${uri}/manifest.json`), `${uri} has its manifest`);
    const champion = Number((await sql<{ version: number }>`SELECT mv.version FROM aliases a JOIN model_versions mv ON mv.id = a.model_version_id WHERE a.name = 'champion'`.execute(db)).rows[0]!.version);
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const pointer = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'artifacts/serving/default/current' }));
    assert.equal((await pointer.Body!.transformToString()).trim(), String(champion));
    const published = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `artifacts/serving/default/${champion}/metadata.json` }));
    assert.equal((JSON.parse(await published.Body!.transformToString()) as { lineage: string }).lineage, 'default');

    // Either machine serves it: the first, restarted with nothing local but its folder, builds the export from the bucket's checkpoint.
    const row = { rows: [{ x0: 0.3, x1: -0.2, x2: 0.5, x3: 1.1 }] };
    const fromSecond = (await (await fetch(`${String(listening.url)}/v1/predict`, { method: 'POST', body: JSON.stringify(row) })).json()) as { version: number; predictions: number[] };
    fs.rmSync(path.join(machines[0]!, 'artifacts'), { recursive: true, force: true });
    const again = spawnFreshet(['daemon'], { env, cwd: machines[0]! });
    after(() => again.child.kill('SIGKILL'));
    const againUrl = String((await again.waitForLog('http listening')).url);
    await again.waitForLog('freshet running');
    const fromFirst = (await (await fetch(`${againUrl}/v1/predict`, { method: 'POST', body: JSON.stringify(row) })).json()) as { version: number; predictions: number[] };
    assert.deepEqual(fromFirst, fromSecond);
    assert.equal(fromFirst.version, champion);
    for (const daemon of [second, again]) daemon.child.kill('SIGTERM');
    for (const daemon of [second, again]) assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });

  test('throttling is answered with backoff; a server down mid-job costs an attempt, not the job; an object deleted after registration fails the job for good, naming its key', { timeout: 240_000 }, async () => {
    const { endpoint, client } = await startS3(BUCKET);
    const proxy = await S3FaultProxy.start(endpoint);
    after(() => proxy.close());
    await upload(client, 'dt=2026-11-01', { 'part-0.csv': csvBytes(syntheticRows(600, 21)) });
    await upload(client, 'dt=2026-11-02', { 'part-0.csv': csvBytes(syntheticRows(600, 22)) });
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-s3-faults-');
    writeProject(dir, proxy.endpoint);
    const text = fs.readFileSync(path.join(dir, 'freshet.config.yaml'), 'utf8')
      .replace('maxAttempts: 2}', 'maxAttempts: 4}')
      .replace('retrain: {schedule: "", virtualEpochs: 2}', 'retrain: {schedule: "", virtualEpochs: 2, onArrival: false}')
      .replace('queue: {pollIntervalSeconds: 0.5, concurrency: 1}', 'queue: {pollIntervalSeconds: 0.5, concurrency: 1, backoffSeconds: 1, maxAttempts: 6}');
    fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), text);
    const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, ...CREDENTIALS }), cwd: dir });
    after(() => daemon.child.kill('SIGKILL'));
    await daemon.waitForLog('freshet running');
    const registeredCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM partitions WHERE status = 'registered'`.execute(db)).rows[0]!.n);
    const retrain = async () => (await enqueueRetrain(db, { lineage: 'default', trigger: 'manual', maxAttempts: 6, reason: 'test' })).job.id;
    const settled = (id: string) => async () => (await sql<{ state: string; attempts: number; last_error: string | null }>`SELECT state, attempts, last_error FROM jobs WHERE id = ${id}`.execute(db)).rows.find((j) => j.state === 'succeeded' || j.state === 'failed');

    // Throttled: every third request is a 503 SlowDown; the SDK backs off and retries.
    proxy.slowDownEvery = 3;
    await waitFor('two partitions registered', async () => (await registeredCount()) === 2, 60_000);
    const first = await waitFor('the first model', settled(await retrain()), 120_000, 250);
    assert.equal(first.state, 'succeeded');
    assert.ok(proxy.slowDowns > 0, 'the proxy throttled some requests');
    proxy.slowDownEvery = 0;

    // Down while a retrain reads the bucket: that attempt fails naming the bucket, the next one finishes.
    await upload(client, 'dt=2026-11-03', { 'part-0.csv': csvBytes(syntheticRows(600, 23)) });
    await waitFor('the third partition registered', async () => (await registeredCount()) === 3, 60_000);
    proxy.mode = 'down';
    const whileDown = await retrain();
    await daemon.waitForLog('job failed', 60_000).catch(() => undefined);
    await waitFor('an attempt failed', async () => (await sql<{ last_error: string | null }>`SELECT last_error FROM jobs WHERE id = ${whileDown}`.execute(db)).rows[0]?.last_error, 60_000, 100);
    proxy.mode = 'pass';
    const resumed = await waitFor('the retrain after the outage', settled(whileDown), 120_000, 250);
    assert.equal(resumed.state, 'succeeded');
    assert.ok(resumed.attempts >= 2, `${resumed.attempts} attempts; the job's log:\n${daemon.stderr().split('\n').filter((l) => l.includes(`"job":"${whileDown}"`)).join('\n')}`);
    assert.match(daemon.stderr(), /"err":"s3:\/\/freshet-landing\/landing\/dt=2026-11-0\d\/part-0\.csv: GetObject failed: [^"]+","outcome":"retrying"/, 'the failed attempt named the object and was retried');

    // Deleted after registration: the job fails at once, naming the key.
    await upload(client, 'dt=2026-11-04', { 'part-0.csv': csvBytes(syntheticRows(600, 24)) });
    await waitFor('the fourth partition registered', async () => (await registeredCount()) === 4, 60_000);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'landing/dt=2026-11-04/part-0.csv' }));
    const gone = await waitFor('the retrain on a deleted object', settled(await retrain()), 120_000, 250);
    assert.equal(gone.state, 'failed');
    assert.equal(gone.attempts, 1, 'failed for good at once, not retried');
    assert.match(gone.last_error!, /s3:\/\/freshet-landing\/landing\/dt=2026-11-04\/part-0\.csv: .*(NoSuchKey|HTTP 404)/);
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });

  test('objects read again come from the local cache when their ETag is unchanged (304), fresh when it changed; the cache keeps to its bound', async () => {
    const { endpoint, client } = await startS3(BUCKET);
    const proxy = await S3FaultProxy.start(endpoint);
    after(() => proxy.close());
    const cacheDir = tempDir('freshet-s3-cache-');
    const door = s3FileDoor({ endpoint: proxy.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 2, cache: { dir: cacheDir, bytes: 3000 } });
    const read = async (location: string) => {
      const parts: Buffer[] = [];
      for await (const chunk of door.chunks(location, 1 << 20)) parts.push(Buffer.from(chunk));
      return Buffer.concat(parts);
    };
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    const location = `s3://${BUCKET}/landing/dt=2026-11-01/part-0.csv`;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landing/dt=2026-11-01/part-0.csv', Body: 'a,b\n1,2\n' }));
    assert.equal((await read(location)).toString(), 'a,b\n1,2\n');
    assert.equal((await read(location)).toString(), 'a,b\n1,2\n');
    assert.deepEqual(proxy.statuses.slice(-2), [200, 304], 'the second read was a conditional GET answered from the cache');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landing/dt=2026-11-01/part-0.csv', Body: 'a,b\n3,4\n' }));
    assert.equal((await read(location)).toString(), 'a,b\n3,4\n', 'a rewritten object is read anew');
    assert.equal(proxy.statuses.at(-1), 200);
    // Three objects of 1,200 bytes and a 3,000-byte bound: the least recently used goes.
    for (const day of ['02', '03', '04']) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `landing/dt=2026-11-${day}/part-0.csv`, Body: Buffer.alloc(1200, 65) }));
      await read(`s3://${BUCKET}/landing/dt=2026-11-${day}/part-0.csv`);
    }
    const kept = fs.readdirSync(cacheDir).filter((n) => n.endsWith('.data')).map((n) => fs.statSync(path.join(cacheDir, n)).size);
    assert.ok(kept.reduce((a, b) => a + b, 0) <= 3000, `the cache holds ${kept.join(' + ')} bytes`);
    assert.equal(kept.length, 2);
  });

  test('the source notices an object rewritten in place under a complete partition (same key, same size, new ETag) as a data change, and a new marker as a new arrival', { timeout: 60_000 }, async () => {
    const { endpoint, client } = await startS3(BUCKET);
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    await upload(client, 'dt=2026-11-01', { 'part-0.csv': Buffer.from('a,b\n1,2\n') });
    const source = new S3PartitionSource({
      root: `s3://${BUCKET}/landing`,
      rules: { mode: 'marker', marker: '_SUCCESS', stableMs: 1000 },
      options: { endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 2, pollSeconds: 0.2 },
      log: createLogger({ level: 'silent', format: 'json' }),
    });
    after(() => source.close());
    const heard: string[] = [];
    await source.watch({ complete: (p) => heard.push(`complete ${p}`), dataChanged: (p) => heard.push(`changed ${p}`) });
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(heard.length, 0, `nothing changed since the baseline: ${heard.join(', ')}`);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landing/dt=2026-11-01/part-0.csv', Body: 'a,b\n3,4\n' }));
    await waitFor('the rewrite noticed', async () => heard.includes('changed dt=2026-11-01'), 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new marker needs a later LastModified (S3 keeps whole seconds)
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'landing/dt=2026-11-01/_SUCCESS', Body: '' }));
    await waitFor('the new marker noticed', async () => heard.includes('complete dt=2026-11-01'), 10_000, 100);
  });
});
