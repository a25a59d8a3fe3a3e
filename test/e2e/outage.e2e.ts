// The registry unreachable for minutes while a daemon trains: first a network that
// silently swallows packets (the connections the daemon holds go dead without a reset),
// then a server that refuses every connection. The daemon stays up, says so in /readyz,
// /metrics and its logs, and once the network is back nothing is lost: the run it was
// training finishes, the partitions that arrived meanwhile are registered and trained on.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createTestDatabase } from '../support/database.ts';
import { backlog, dropPartition, slowTrainingEnv } from '../support/daemon.ts';
import { runFreshet, spawnFreshet } from '../support/cli.ts';
import { tempDir } from '../support/partitions.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

/** Seconds of each outage phase (blackhole, then refused): 75 + 75 by default. */
const PHASE_SECONDS = Number(process.env.OUTAGE_PHASE_SECONDS ?? 75);

test(`the registry unreachable for ${2 * PHASE_SECONDS} s mid-training: the daemon stays up and loses nothing`, async () => {
  const { db, url } = await createTestDatabase();
  const target = new URL(url);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  after(() => proxy.close());
  const dir = tempDir('freshet-outage-');
  for (const day of ['2026-11-01', '2026-11-02']) dropPartition(`${dir}/data`, day, 2000);
  const env = slowTrainingEnv(dir, proxy.proxiedUrl(url), {
    FRESHET_DATABASE__CONNECT_TIMEOUT_SECONDS: '2',
    FRESHET_DATABASE__QUERY_TIMEOUT_SECONDS: '10',
    FRESHET_DATABASE__MAX_BACKOFF_SECONDS: '5',
    FRESHET_SERVING_DIR: `${dir}/serving`,
    FRESHET_RETRAIN__VIRTUAL_EPOCHS: '3',
  });
  assert.equal((await runFreshet(['scan'], { env })).code, 0);
  const daemon = spawnFreshet(['daemon'], { env });
  try {
    const http = String((await daemon.waitForLog('http listening')).url);
    const enqueued = await daemon.waitForLog('retrain enqueued');
    await daemon.waitForLog('checkpoint written');
    /** The daemon's answer, within a bound: a hung probe is a failure, not a wait. */
    const probe = async (path: string): Promise<{ status: number; text: string }> => {
      const response = await fetch(`${http}${path}`, { signal: AbortSignal.timeout(30_000) }).catch((error: Error) => {
        throw new Error(`the daemon did not answer ${path}: ${error.message}\n${daemon.stderr().slice(-3000)}`);
      });
      return { status: response.status, text: await response.text() };
    };
    const assertDown = async (phase: string): Promise<void> => {
      assert.equal(daemon.child.exitCode, null, `the daemon exited during the ${phase}: ${daemon.stderr().slice(-3000)}`);
      assert.equal((await probe('/readyz')).status, 503, `not ready during the ${phase}`);
      assert.match((await probe('/metrics')).text, /^freshet_registry_up 0$/m, `freshet_registry_up 0 during the ${phase}`);
      assert.equal((await probe('/healthz')).status, 200, `alive during the ${phase}`);
    };

    proxy.setMode('blackhole');
    await delay(PHASE_SECONDS * 500);
    dropPartition(`${dir}/data`, '2026-11-03', 500);
    await assertDown('blackhole');
    await delay(PHASE_SECONDS * 500);

    proxy.setMode('refuse');
    await delay(PHASE_SECONDS * 500);
    dropPartition(`${dir}/data`, '2026-11-04', 500);
    await assertDown('refusal');
    await delay(PHASE_SECONDS * 500);

    proxy.setMode('pass');
    await waitFor('every partition registered and trained on, the queue idle', async () => {
      const { registered, untrained, live } = await backlog(db);
      return registered === 4 && untrained === 0 && live === 0;
    }, 300_000, 500).catch((error: Error) => {
      throw new Error(`${error.message}\n${daemon.stderr().slice(-4000)}`);
    });
    assert.equal((await probe('/readyz')).status, 200, 'ready again');
    assert.match((await probe('/metrics')).text, /^freshet_registry_up 1$/m);

    // The run the outage interrupted is the one that finished: resumed or continued, never restarted.
    const runs = await db.selectFrom('runs').select(['id', 'status', 'job_id']).where('job_id', '=', String(enqueued.job)).execute();
    assert.deepEqual(runs.map((r) => r.status), ['succeeded'], 'one run for the first job, finished');
    const last = await db.selectFrom('checkpoints').select('virtual_epoch').where('run_id', '=', runs[0]!.id).orderBy('virtual_epoch', 'desc').executeTakeFirstOrThrow();
    assert.equal(last.virtual_epoch, 20, 'it reached its last virtual epoch');
    const jobs = await db.selectFrom('jobs').select(['id', 'state', 'last_error']).execute();
    assert.ok(jobs.every((j) => j.state === 'succeeded'), `every job succeeded: ${JSON.stringify(jobs)}`);
    const decisions = await db.selectFrom('promotions').select('decision').execute();
    assert.ok(decisions.length >= 2, 'the first model and a retrain on the partitions from the outage were decided');

    // What the logs said: statements stuck on the silent network timed out, the rest retried.
    const messages = daemon.lines.map((l) => JSON.stringify(l));
    assert.ok(messages.some((m) => /Query read timeout/.test(m)), 'a statement stuck on the silent network timed out');
    assert.ok(messages.some((m) => /failed; retrying/.test(m)), 'work waited for the registry and retried');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-3000));
    const warnings = daemon.lines.filter((l) => Number(l.level) >= 40).map((l) => String(l.msg));
    process.stderr.write(`outage test: the daemon's warnings and errors:\n${[...new Set(warnings)].map((w) => `  ${warnings.filter((x) => x === w).length}× ${w}`).join('\n')}\n`);
  } finally {
    daemon.child.kill('SIGKILL');
  }
});
