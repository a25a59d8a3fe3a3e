// Three daemons on one Postgres and one data dir while 50 partitions arrive: each
// partition registered once, each job run once, versions and decisions without duplicates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createTestDatabase } from '../support/database.ts';
import { backlog, dropPartition, quickClusterEnv, startDaemons, stopDaemons } from '../support/daemon.ts';
import { tempDir } from '../support/partitions.ts';
import { waitFor } from '../support/wait.ts';

const PARTITIONS = 50;

test(`3 daemons, ${PARTITIONS} partitions arriving: registered once each, each job run once, no duplicate version or decision`, async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-concurrency-');
  const daemons = await startDaemons(
    3,
    quickClusterEnv(dir, url, { FRESHET_SERVING_DIR: `${dir}/serving`, FRESHET_RETRAIN__ON_ARRIVAL: 'true', FRESHET_WATCHER__RESCAN_INTERVAL_SECONDS: '2' }),
  );
  for (let i = 0; i < PARTITIONS; i++) {
    const day = new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
    dropPartition(`${dir}/data`, day, 300);
    await delay(100); // 10 a second
  }
  await waitFor('every partition trained on and the queue idle', async () => {
    const { registered, untrained, live } = await backlog(db);
    return registered === PARTITIONS && untrained === 0 && live === 0;
  }, 300_000, 250);
  await stopDaemons(daemons);

  const partitions = await db.selectFrom('partitions').select(['path', 'status']).execute();
  assert.equal(partitions.length, PARTITIONS, 'one row per partition although three watchers saw each');
  assert.equal(new Set(partitions.map((p) => p.path)).size, PARTITIONS);

  const jobs = await db.selectFrom('jobs').selectAll().execute();
  const claims = daemons.flatMap((d) => d.lines.filter((l) => l.msg === 'job claimed').map((l) => String(l.job)));
  assert.deepEqual(claims.sort(), jobs.map((j) => j.id).sort(), 'each job claimed exactly once across the daemons');
  assert.ok(jobs.every((j) => j.state === 'succeeded' && j.attempts === 1));
  const runs = await db.selectFrom('runs').select(['id', 'job_id', 'status']).execute();
  assert.equal(new Set(runs.map((r) => r.job_id)).size, runs.length, 'one run per job');
  assert.ok(runs.every((r) => r.status === 'succeeded'));

  const decisions = await db.selectFrom('promotions').selectAll().where('decision', 'in', ['promoted', 'rejected']).execute();
  assert.equal(decisions.length, runs.length, 'one gate decision per run');
  assert.equal(new Set(decisions.map((d) => d.run_id)).size, decisions.length);
  const versions = await db.selectFrom('model_versions').select(['version', 'checkpoint_id']).orderBy('version').execute();
  assert.deepEqual(versions.map((v) => v.version), versions.map((_, i) => i + 1), 'versions 1..n without a gap or duplicate');
  assert.equal(versions.length, decisions.filter((d) => d.decision === 'promoted').length);
  const workers = new Set(daemons.filter((d) => d.lines.some((l) => l.msg === 'job claimed')).map((d) => d.child.pid));
  process.stderr.write(`concurrency: ${jobs.length} jobs over ${workers.size} daemons, ${versions.length} versions, ${decisions.length - versions.length} rejections\n`);
});
