// Partitions on object storage (issue #27, first part): a lineage whose dataDir is an S3
// prefix, against a real S3-protocol server (s3rver, started here on loopback) with the
// real @aws-sdk/client-s3. The daemon registers the bucket's partitions (keys with spaces,
// unicode and `=` in values), trains and serves from them, polls for new ones, rejects a
// partition whose marker has no data naming its key, and refuses a missing bucket or wrong
// credentials at start naming the bucket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import S3rver from 's3rver';
import { cleanEnv, runFreshet, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { waitFor } from './support/wait.ts';

const BUCKET = 'freshet-landing';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

async function startS3(): Promise<{ endpoint: string; client: S3Client }> {
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: tempDir('freshet-s3rver-'), silent: true });
  const { port } = await server.run();
  after(() => server.close());
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  after(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  return { endpoint, client };
}

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

function writeProject(dir: string, endpoint: string, dataDir = `s3://${BUCKET}/landing`): void {
  fs.writeFileSync(
    path.join(dir, 'freshet.config.yaml'),
    `dataDir: ${JSON.stringify(dataDir)}
artifactsDir: artifacts
servingDir: serving
s3: {endpoint: ${JSON.stringify(endpoint)}, forcePathStyle: true, pollSeconds: 0.5, maxAttempts: 2}
training: {backend: wasm, batchSize: 64, numCheckpoints: 4, stopPoint: 1, logEvery: 5, shuffleBuffer: 500, earlyCheckpoints: {firstStep: 0}}
retrain: {schedule: "", virtualEpochs: 2}
eval: {mustBeatNaive: false}
queue: {pollIntervalSeconds: 0.5, concurrency: 1}
http: {port: 0}
log: {level: info, format: json}
columns: {features: [x0, x1, x2, x3], label: y}
`,
  );
}

describe('partitions in an S3 bucket', () => {
  test('the daemon registers, trains on and serves from an s3:// prefix, polls it for new partitions, and names a bad one by its key', { timeout: 180_000 }, async () => {
    const { endpoint, client } = await startS3();
    await upload(client, 'dt=2026-11-01', { 'part 0 é.csv': csvBytes(syntheticRows(600, 1)) });
    await upload(client, 'dt=2026-11-02/city=São Paulo', { 'x=1.csv': csvBytes(syntheticRows(600, 2)) });
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
    }, 30_000);
    assert.deepEqual(registered.map((r) => [r.source, r.path, Number(r.row_count)]), [[source, 'dt=2026-11-01', 600], [source, 'dt=2026-11-02/city=São Paulo', 600]]);

    // Trained on the bucket's objects and served.
    await waitFor('a champion', async () => (await sql<{ n: string }>`SELECT count(*) AS n FROM aliases WHERE name = 'champion'`.execute(db)).rows[0]!.n === '1', 120_000, 250);
    const metadata = JSON.parse(fs.readFileSync(path.join(dir, 'serving', 'default', 'current', 'metadata.json'), 'utf8')) as { lineage: string };
    assert.equal(metadata.lineage, 'default');
    const answer = await fetch(`${String(listening.url)}/v1/predict`, { method: 'POST', body: JSON.stringify({ rows: [{ x0: 0.1, x1: 0.2, x2: 0.3, x3: 0.4 }] }) });
    assert.equal(answer.status, 200);

    // Polling finds a partition uploaded later; one whose marker came without data is rejected naming its key.
    await upload(client, 'dt=2026-11-03', { 'part-0.csv': csvBytes(syntheticRows(600, 3)) });
    await upload(client, 'dt=2026-11-04', {});
    const later = await waitFor('the later partitions recorded', async () => {
      const rows = await sql<{ path: string; status: string; error: string | null }>`SELECT path, status, error FROM partitions WHERE path IN ('dt=2026-11-03', 'dt=2026-11-04') ORDER BY path`.execute(db);
      return rows.rows.length === 2 && rows.rows;
    }, 30_000);
    assert.deepEqual(later.map((r) => [r.path, r.status]), [['dt=2026-11-03', 'registered'], ['dt=2026-11-04', 'rejected']]);
    assert.match(later[1]!.error!, /^dt=2026-11-04: empty partition: no data files/, 'named by its key under the prefix, as a local partition by its path under dataDir');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });

  test('a missing bucket and wrong credentials stop the daemon at start with exit 2, naming the bucket', { timeout: 60_000 }, async () => {
    const { endpoint } = await startS3();
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
});
