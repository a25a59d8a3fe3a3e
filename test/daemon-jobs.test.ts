// The daemon and the worker as separate processes: data arrival → retrain job → run;
// graceful shutdown releases the job, a restart resumes it; a worker killed with SIGKILL
// loses its lease and another resumes its run from the checkpoint; the HTTP endpoints.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Registry } from '../src/registry/index.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';
import { cleanEnv, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { dropPartition, slowTrainingEnv } from './support/daemon.ts';
import { waitFor } from './support/wait.ts';

async function job(db: Registry, id: string) {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function runsOf(db: Registry, jobId: string) {
  return db.selectFrom('runs').selectAll().where('job_id', '=', jobId).orderBy('id').execute();
}

async function checkpointCount(db: Registry, runId: string): Promise<number> {
  const row = await db.selectFrom('checkpoints').select(db.fn.countAll<string>().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('daemon and workers', () => {
  test('arrival enqueues a retrain; SIGTERM releases it at a checkpoint and exits 0; a restarted daemon resumes the same run; endpoints report it', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir();
    for (const day of ['2026-11-01', '2026-11-02']) dropPartition(`${dir}/data`, day, 2000);
    const env = slowTrainingEnv(dir, url);

    const first = spawnFreshet(['daemon'], { env });
    const enqueued = await first.waitForLog('retrain enqueued');
    const jobId = String(enqueued.job);
    await first.waitForLog('checkpoint written');
    const http = String((await first.waitForLog('http listening')).url);
    assert.equal((await fetch(`${http}/healthz`)).status, 200);
    const ready = await fetch(`${http}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual((await ready.json()) as unknown, { ready: true, checks: { registry: true, watcher: true, workers: true } });
    const running = await fetch(`${http}/metrics`).then((r) => r.text());
    assert.match(running, /^freshet_jobs\{lineage="default",state="running"\} 1$/m);
    assert.match(running, /^freshet_registry_up 1$/m);
    assert.match(running, /^process_cpu_seconds_total /m, 'default Node.js metrics');
    const page = await fetch(`${http}/`);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await page.text(), /<h1>freshet — lineage default<\/h1>/);
    const status = (await fetch(`${http}/status.json`).then((r) => r.json())) as { lineage: string; activeJobs: Array<{ id: string; state: string }> };
    assert.equal(status.lineage, 'default');
    assert.deepEqual(status.activeJobs.map((j) => [j.id, j.state]), [[jobId, 'running']]);

    first.child.kill('SIGTERM');
    const exit = await first.exited;
    assert.equal(exit.code, 0, `graceful exit within daemon.shutdownTimeoutSeconds\n${first.stderr()}`);
    const released = await job(db, jobId);
    assert.equal(released.state, 'queued', 'released for another worker');
    assert.equal(released.attempts, 0, 'a shutdown does not spend an attempt');
    const [run] = await runsOf(db, jobId);
    assert.equal(run!.status, 'running');
    const checkpointsBefore = await checkpointCount(db, run!.id);
    assert.ok(checkpointsBefore >= 1);

    const second = spawnFreshet(['daemon'], { env });
    await second.waitForLog('resuming the run an earlier attempt of this job started');
    await waitFor('the job to succeed', async () => (await job(db, jobId)).state === 'succeeded', 120_000, 200);
    const runs = await runsOf(db, jobId);
    assert.equal(runs.length, 1, 'the same run, resumed: not a new one');
    assert.equal(runs[0]!.status, 'succeeded');
    const http2 = String((await second.waitForLog('http listening')).url);
    const done = await fetch(`${http2}/metrics`).then((r) => r.text());
    assert.match(done, /^freshet_jobs\{lineage="default",state="succeeded"\} 1$/m);
    assert.match(done, /^freshet_job_duration_seconds_count\{lineage="default",kind="retrain"\} 1$/m);
    // The first model passed the gate (no champion yet) and is the champion.
    assert.match(done, /^freshet_promotions_total\{lineage="default",decision="promoted"\} 1$/m);
    assert.match(done, /^freshet_champion_version{lineage="default"} 1$/m);
    assert.match(done, /^freshet_eval_metric\{lineage="default",model="candidate"\} \d/m);
    assert.match(done, /^freshet_data_freshness_seconds\{lineage="default"\} \d/m);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.stderr());
  });

  test('a worker killed with SIGKILL mid-job loses its lease; another worker resumes its run from the last checkpoint', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir();
    for (const day of ['2026-11-01', '2026-11-02']) dropPartition(`${dir}/data`, day, 2000);
    const env = slowTrainingEnv(dir, url, { FRESHET_QUEUE__LEASE_SECONDS: '3', FRESHET_QUEUE__HEARTBEAT_SECONDS: '1', FRESHET_QUEUE__POLL_INTERVAL_SECONDS: '0.5' });
    // A daemon registers the partitions (and trains nothing: no workers in it).
    const scanner = spawnFreshet(['scan'], { env });
    assert.equal((await scanner.exited).code, 0, scanner.stderr());
    const { job: queued } = await enqueueRetrain(db, { lineage: 'default', trigger: 'manual', maxAttempts: 3, reason: 'test' });

    const doomed = spawnFreshet(['worker'], { env });
    await doomed.waitForLog('job claimed');
    const [run] = await waitFor('a run', async () => {
      const runs = await runsOf(db, queued.id);
      return runs.length && (await checkpointCount(db, runs[0]!.id)) >= 2 ? runs : undefined;
    }, 60_000, 50);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = await job(db, queued.id);
    assert.equal(killedAt.state, 'running', 'still leased to the dead worker');
    const stepsAtKill = (await db.selectFrom('checkpoints').select('global_step').where('run_id', '=', run!.id).orderBy('global_step', 'desc').executeTakeFirstOrThrow()).global_step;

    const rescuer = spawnFreshet(['worker'], { env });
    const claimed = await rescuer.waitForLog('job claimed', 30_000);
    assert.equal(claimed.job, queued.id);
    // The killed attempt had recorded checkpoints: it advanced its run, so it does not use up
    // an attempt (retries count failures, not restarts).
    assert.equal(claimed.attempt, 1, 'an attempt that advanced its run is not counted');
    assert.ok(killedAt.progress > 0, 'the dead worker recorded its progress');
    const resumed = await rescuer.waitForLog('resuming run');
    assert.ok(Number(resumed.fromStep) >= Number(stepsAtKill), `resumed from step ${resumed.fromStep}, the last checkpoint was at ${stepsAtKill}`);
    await waitFor('the job to succeed', async () => (await job(db, queued.id)).state === 'succeeded', 120_000, 200);
    const runs = await runsOf(db, queued.id);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'succeeded');
    assert.equal(rescuer.lines.filter((l) => l.msg === 'job claimed').length, 1);
    rescuer.child.kill('SIGTERM');
    assert.equal((await rescuer.exited).code, 0, rescuer.stderr());
  });

  test('freshet retrain enqueues once, freshet jobs lists the queue', async () => {
    const { url } = await createTestDatabase();
    const env = cleanEnv({ DATABASE_URL: url });
    const first = spawnFreshet(['retrain', '--json'], { env });
    assert.equal((await first.exited).code, 0, first.stderr());
    const second = spawnFreshet(['retrain'], { env });
    assert.equal((await second.exited).code, 0);
    const list = spawnFreshet(['jobs', '--json'], { env });
    let out = '';
    list.child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    assert.equal((await list.exited).code, 0, list.stderr());
    const jobs = JSON.parse(out) as Array<{ state: string; trigger: string; payload: { lineage: string } }>;
    assert.equal(jobs.length, 1, 'the second retrain coalesced into the first');
    assert.deepEqual([jobs[0]!.state, jobs[0]!.trigger, jobs[0]!.payload.lineage], ['queued', 'manual', 'default']);
  });
});
