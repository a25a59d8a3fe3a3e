// Several daemons on one Postgres and one data dir (separate processes), and a Postgres
// restart in the middle of a run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openRegistry, startEmbeddedPostgres } from '../src/registry/index.ts';
import { createLogger } from '../src/core/log.ts';
import { spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { waitFor } from './support/wait.ts';
import { backlog, dropPartition, quickClusterEnv, slowTrainingEnv, startDaemons, stopDaemons } from './support/daemon.ts';

describe('several daemons, one registry', () => {
  test('3 daemons: one cron job per slot, each partition registered once, each job run exactly once', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir();
    dropPartition(`${dir}/data`, '2026-11-01', 600);
    const daemons = await startDaemons(
      3,
      quickClusterEnv(dir, url, {
        FRESHET_RETRAIN__SCHEDULE: '*/2 * * * * *', // every 2 seconds
        FRESHET_RETRAIN__ON_ARRIVAL: 'false',
        FRESHET_WATCHER__RESCAN_INTERVAL_SECONDS: '1',
      }),
    );
    // New data every 1.5 s for a while, so that several slots find something to do.
    for (let day = 2; day <= 6; day++) {
      await delay(1500);
      dropPartition(`${dir}/data`, `2026-11-0${day}`, 600);
    }
    await waitFor('every partition trained on by a finished job', async () => {
      const { untrained, live } = await backlog(db);
      return untrained === 0 && live === 0;
    }, 120_000, 200);
    await stopDaemons(daemons);

    // Each partition once, although three watchers saw it.
    const partitions = await db.selectFrom('partitions').select(['path', 'status']).execute();
    assert.equal(partitions.length, 6);
    assert.ok(partitions.every((p) => p.status === 'registered'));

    // Cron: each slot claimed by exactly one process, and at most one job per slot.
    const claimedLines = daemons.flatMap((d) => d.lines.filter((l) => l.msg === 'cron slot claimed').map((l) => String(l.slot)));
    assert.ok(claimedLines.length >= 3, `slots claimed: ${claimedLines.length}`);
    assert.equal(new Set(claimedLines).size, claimedLines.length, 'no slot claimed by two processes');
    const slotRows = await db.selectFrom('cron_slots').select(['slot', 'claimed_by']).execute();
    assert.equal(slotRows.length, claimedLines.length);
    const jobs = await db.selectFrom('jobs').selectAll().orderBy('id').execute();
    assert.ok(jobs.length >= 2, `${jobs.length} jobs`);
    assert.ok(jobs.every((j) => j.trigger === 'cron'));
    const jobSlots = jobs.map((j) => String(j.payload.slot));
    assert.equal(new Set(jobSlots).size, jobs.length, 'at most one job per slot');

    // Each job claimed once, by one worker, and produced exactly one run.
    const claims = daemons.flatMap((d) => d.lines.filter((l) => l.msg === 'job claimed').map((l) => String(l.job)));
    assert.deepEqual(claims.sort(), jobs.map((j) => j.id).sort(), 'every job claimed exactly once across the three daemons');
    for (const j of jobs) {
      assert.equal(j.state, 'succeeded');
      assert.equal(j.attempts, 1);
      const runs = await db.selectFrom('runs').select('status').where('job_id', '=', j.id).execute();
      assert.deepEqual(runs, [{ status: 'succeeded' }]);
    }
  });

  test('Postgres restarting in the middle of a run: the run finishes, nothing is lost, the daemon stays up and says so', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755); // as root, the server runs as another user that must enter it
    const silent = createLogger({ level: 'silent', format: 'json' });
    const pgDir = path.join(dir, 'pg');
    const server = await startEmbeddedPostgres({ dataDir: pgDir, port: 0, database: 'freshet', log: silent });
    const port = server.port;
    for (const day of ['2026-11-01', '2026-11-02']) dropPartition(`${dir}/data`, day, 2000);
    const daemon = spawnFreshet(['daemon'], { env: slowTrainingEnv(dir, server.url, { FRESHET_DATABASE__MAX_BACKOFF_SECONDS: '1' }) });
    let restarted = server;
    try {
      const enqueued = await daemon.waitForLog('retrain enqueued');
      await daemon.waitForLog('checkpoint written');
      const http = String((await daemon.waitForLog('http listening')).url);

      // A fast shutdown of the postmaster, as a restart by an operator or a crash would do.
      const postmasterPid = Number(fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postmasterPid, 'SIGINT');
      await waitFor('the server to stop', () => {
        try {
          process.kill(postmasterPid, 0);
          return false;
        } catch {
          return true;
        }
      }, 30_000);
      const during = await fetch(`${http}/readyz`).catch((error: Error) => {
        throw new Error(`the daemon stopped answering: ${error.message}\n${daemon.stderr().slice(-3000)}`);
      });
      assert.equal(during.status, 503, 'not ready while the registry is down');
      dropPartition(`${dir}/data`, '2026-11-03', 500); // arrives during the outage
      await delay(3000);
      const metricsDuring = await fetch(`${http}/metrics`).then((r) => r.text());
      assert.match(metricsDuring, /^freshet_registry_up 0$/m);
      restarted = await startEmbeddedPostgres({ dataDir: pgDir, port, database: 'freshet', log: silent });

      const db = openRegistry(restarted.url, { connectTimeoutSeconds: 5 });
      try {
        await waitFor('the first job to succeed', async () => (await db.selectFrom('jobs').select('state').where('id', '=', String(enqueued.job)).executeTakeFirst())?.state === 'succeeded', 120_000, 250);
        const run = await db.selectFrom('runs').selectAll().where('job_id', '=', String(enqueued.job)).executeTakeFirstOrThrow();
        assert.equal(run.status, 'succeeded');
        const checkpoints = await db.selectFrom('checkpoints').select(['virtual_epoch']).where('run_id', '=', run.id).orderBy('virtual_epoch').execute();
        assert.equal(checkpoints.at(-1)!.virtual_epoch, 20, 'the run reached its last virtual epoch');
        await waitFor('the partition written during the outage', async () => (await db.selectFrom('partitions').select('id').where('path', '=', 'dt=2026-11-03').executeTakeFirst()) ?? false, 60_000, 200);
        assert.equal((await fetch(`${http}/readyz`)).status, 200);
        // The LISTEN connection came back by itself (polling carried the work meanwhile).
        assert.ok(daemon.lines.some((l) => l.msg === 'notification connection lost; reconnecting (polling continues meanwhile)'));
        await waitFor('the listener to reconnect', () => daemon.lines.some((l) => l.msg === 'listening for notifications again'), 30_000, 100);
        const retried = daemon.lines.filter((l) => /^(recording the checkpoint|applying checkpoint retention) failed; retrying$/.test(String(l.msg)));
        assert.ok(retried.length > 0, 'a checkpoint write waited for the server (the training went on meanwhile)');
      } finally {
        await db.destroy();
      }
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0, daemon.stderr());
    } finally {
      daemon.child.kill('SIGKILL');
      await restarted.stop();
    }
  });
});
