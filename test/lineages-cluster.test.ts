// Many lineages, many daemons (issue #26): three daemon processes share ten lineages through
// one registry; one is killed with SIGKILL while it trains. Nothing is lost (every lineage
// ends with a champion and every partition registered once), nothing is trained twice (one
// run per lineage, resumed where it was killed), and every champion's weights are
// byte-identical to those of a clean run by a single daemon on a registry of its own. Then
// the same with the partitions and the artifacts in an S3 bucket (s3rver, the real client).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import type { Registry } from '../src/registry/index.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';
import { cleanEnv, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { waitFor } from './support/wait.ts';
import { S3_CREDENTIALS, startS3 } from './support/s3-server.ts';

const LINEAGES = Array.from({ length: 10 }, (_, i) => `l${i}`);
const BUCKET = 'freshet-cluster';

/**
 * The configuration of a project folder whose lineages read the shared data under `data`
 * (a folder, or an s3:// prefix); with `s3`, checkpoints and exports go to the bucket too.
 */
function writeConfig(project: string, data: string, s3?: { endpoint: string; artifactsUri: string }): void {
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(
    path.join(project, 'freshet.config.yaml'),
    `${s3 ? `artifactStore: s3\nartifactsUri: ${JSON.stringify(s3.artifactsUri)}\ns3: {endpoint: ${JSON.stringify(s3.endpoint)}, forcePathStyle: true, pollSeconds: 0.5}\n` : ''}artifactsDir: artifacts
servingDir: serving
training: {backend: wasm, batchSize: 64, numCheckpoints: 6, stopPoint: 3, minSteps: 0, extraEpochs: 0, logEvery: 5, shuffleBuffer: 500, earlyCheckpoints: {firstStep: 0}, earlyStopping: {enabled: false}}
retrain: {schedule: "", onArrival: false}
eval: {mustBeatNaive: false}
queue: {pollIntervalSeconds: 0.3, leaseSeconds: 3, heartbeatSeconds: 0.5, backoffSeconds: 0}
http: {enabled: false}
log: {level: info, format: json}
columns: {features: [x0, x1, x2, x3], label: y}
lineages:
${LINEAGES.map((name) => `  ${name}: {dataDir: ${JSON.stringify(data.startsWith('s3://') ? `${data}/${name}` : path.join(data, name))}}`).join('\n')}
`,
  );
}

/** Starts `count` daemons on a project, enqueues a retrain of every lineage once their scans registered every partition. */
async function startCluster(project: string, url: string, db: Registry, count: number) {
  const daemons = Array.from({ length: count }, () => spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, ...S3_CREDENTIALS }), cwd: project }));
  after(() => daemons.forEach((d) => d.child.kill('SIGKILL')));
  await Promise.all(daemons.map((d) => d.waitForLog('freshet running', 90_000)));
  await waitFor('every partition registered', async () => (await sql<{ n: string }>`SELECT count(*) AS n FROM partitions WHERE status = 'registered'`.execute(db)).rows[0]!.n === String(LINEAGES.length * 2), 30_000);
  for (const lineage of LINEAGES) await enqueueRetrain(db, { lineage, trigger: 'manual', maxAttempts: 5, reason: 'test' });
  return daemons;
}

const allSucceeded = (db: Registry) => async () => {
  const rows = await sql<{ state: string; n: string }>`SELECT state, count(*) AS n FROM jobs GROUP BY state`.execute(db);
  return rows.rows.length === 1 && rows.rows[0]!.state === 'succeeded' && rows.rows[0]!.n === String(LINEAGES.length);
};

/** Each lineage's champion export weights. */
function championWeights(project: string): Map<string, Buffer> {
  return new Map(LINEAGES.map((name) => [name, fs.readFileSync(path.join(project, 'serving', name, 'current', 'weights.bin'))]));
}

/** Ten lineages' data: two partitions each, in a folder or (with `client`) in the bucket. */
async function writeData(data: string, client?: S3Client): Promise<void> {
  for (const [i, name] of LINEAGES.entries()) {
    for (const day of [1, 2]) {
      const rows = syntheticRows(1500, i * 10 + day);
      if (client) {
        const file = path.join(tempDir('freshet-cluster-csv-'), 'part-0.csv');
        writeCsv(file, rows);
        const prefix = `data/${name}/dt=2026-11-0${day}`;
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/part-0.csv`, Body: fs.readFileSync(file) }));
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_SUCCESS`, Body: '' }));
      } else {
        const folder = path.join(data, name, `dt=2026-11-0${day}`);
        writeCsv(path.join(folder, 'part-0.csv'), rows);
        fs.writeFileSync(path.join(folder, '_SUCCESS'), '');
      }
    }
  }
}

async function scenario(onS3: boolean): Promise<void> {
  const root = tempDir('freshet-lineages-cluster-');
  const bucket = onS3 ? await startS3(BUCKET) : undefined;
  const data = bucket ? `s3://${BUCKET}/data` : path.join(root, 'data');
  await writeData(data, bucket?.client);
  const s3For = (name: string) => (bucket ? { endpoint: bucket.endpoint, artifactsUri: `s3://${BUCKET}/artifacts-${name}` } : undefined);

  // The cluster: three daemons; the first one seen training (a checkpoint written) is killed.
  const shared = await createTestDatabase();
  writeConfig(path.join(root, 'cluster'), data, s3For('cluster'));
  const daemons = await startCluster(path.join(root, 'cluster'), shared.url, shared.db, 3);
  const training = await waitFor(
    'a running job with a checkpoint',
    async () =>
      (
        await sql<{ id: string; locked_by: string }>`
          SELECT j.id, j.locked_by FROM jobs j JOIN runs r ON r.job_id = j.id JOIN checkpoints c ON c.run_id = r.id
          WHERE j.state = 'running' LIMIT 1`.execute(shared.db)
      ).rows[0],
    120_000,
    50,
  );
  const victim = daemons.find((d) => training.locked_by.split(':')[1] === String(d.child.pid))!;
  assert.ok(victim, `the daemon holding the job (${training.locked_by}) is one of ours`);
  victim.child.kill('SIGKILL');
  await waitFor('all ten jobs succeeded', allSucceeded(shared.db), 200_000, 250);
  for (const d of daemons.filter((d) => d !== victim)) d.child.kill('SIGTERM');

  // Nothing trained twice: one run per lineage, each succeeded; the killed one was resumed, not started over.
  const runs = await sql<{ name: string; runs: string; succeeded: string }>`
    SELECT l.name, count(*) AS runs, count(*) FILTER (WHERE r.status = 'succeeded') AS succeeded
    FROM runs r JOIN lineages l ON l.id = r.lineage_id GROUP BY l.name ORDER BY l.name`.execute(shared.db);
  assert.deepEqual(runs.rows.map((r) => [r.name, Number(r.runs), Number(r.succeeded)]), LINEAGES.map((name) => [name, 1, 1]));
  const killedJob = await sql<{ locked_by: string }>`SELECT locked_by FROM jobs WHERE id = ${training.id}`.execute(shared.db);
  assert.notEqual(killedJob.rows[0]!.locked_by, training.locked_by, 'another daemon finished the killed daemon\'s job');
  // Nothing lost: each lineage has a champion, and each partition is registered once, under its own folder.
  const champions = await sql<{ n: string }>`SELECT count(*) AS n FROM aliases WHERE name = 'champion'`.execute(shared.db);
  assert.equal(Number(champions.rows[0]!.n), LINEAGES.length);
  const perSource = await sql<{ source: string; n: string }>`SELECT source, count(*) AS n FROM partitions GROUP BY source ORDER BY source`.execute(shared.db);
  assert.deepEqual(perSource.rows.map((r) => [r.source, Number(r.n)]), LINEAGES.map((name) => [onS3 ? `${data}/${name}` : path.join(data, name), 2]));
  if (onS3) {
    const stores = await sql<{ store: string }>`SELECT DISTINCT store FROM checkpoints`.execute(shared.db);
    assert.deepEqual(stores.rows.map((r) => r.store), ['s3'], 'every checkpoint in the bucket');
  }

  // The clean run: one daemon, a registry of its own, the same data.
  const clean = await createTestDatabase();
  writeConfig(path.join(root, 'clean'), data, s3For('clean'));
  const [alone] = await startCluster(path.join(root, 'clean'), clean.url, clean.db, 1);
  await waitFor('the clean run\'s ten jobs', allSucceeded(clean.db), 200_000, 250);
  alone!.child.kill('SIGTERM');
  const [fromCluster, fromClean] = [championWeights(path.join(root, 'cluster')), championWeights(path.join(root, 'clean'))];
  for (const name of LINEAGES) assert.ok(fromCluster.get(name)!.equals(fromClean.get(name)!), `lineage ${name}: the champion's weights differ from a clean run's`);
}

test('three daemons, ten lineages, one killed with SIGKILL while training: nothing lost, nothing trained twice, every champion identical to a clean run', { timeout: 300_000 }, () => scenario(false));

test('the same with the partitions and the artifacts in an S3 bucket', { timeout: 300_000 }, () => scenario(true));

