// The daemon skeleton: starts, migrates, stops on the first signal, and waits for an
// unreachable database with capped backoff instead of crashing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import net from 'node:net';
import { sql } from 'kysely';
import { enqueueRetrain } from '../src/scheduler/index.ts';
import { cleanEnv, spawnFreshet } from './support/cli.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { createTestDatabase } from './support/database.ts';
import path from 'node:path';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { runDaemon } from '../src/daemon.ts';
import { createLineage } from '../src/registry/index.ts';
import { tempDir } from './support/partitions.ts';

describe('freshet daemon', () => {
  test('migrates at start and shuts down gracefully on SIGTERM', async () => {
    const { url, db } = await createTestDatabase({ migrated: false });
    const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url }) });
    await daemon.waitForLog('registry ready');
    const applied = await sql<{ n: string }>`select count(*) as n from kysely_migration`.execute(db);
    assert.ok(Number(applied.rows[0]!.n) > 0, 'the daemon migrated the database');
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    assert.equal(exit.code, 0, daemon.stderr());
    await daemon.waitForLog('freshet stopped', 1);
  });

  test('with the database unreachable it retries with backoff, logging each attempt, and still stops on SIGINT', async () => {
    const daemon = spawnFreshet(['daemon'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere', FRESHET_DATABASE__MAX_BACKOFF_SECONDS: '1' }),
    });
    const first = await daemon.waitForLog('connecting to the database failed; retrying');
    assert.equal(first.attempt, 1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const attempts = daemon.lines.filter((line) => String(line.msg).includes('retrying')).map((line) => line.retryInSeconds as number);
    assert.ok(attempts.length >= 3, `several attempts logged: ${attempts.join(', ')}`);
    assert.ok(attempts.every((seconds) => seconds <= 1), 'backoff capped at database.maxBackoffSeconds');
    daemon.child.kill('SIGINT');
    const exit = await daemon.exited;
    assert.equal(exit.code, 0, daemon.stderr());
  });
});

describe('freshet daemon waiting for its registry (issue #24, item 6)', () => {
  test('HTTP answers at once: /healthz 200, /readyz 503 saying why, freshet_registry_up 0, the status page and /v1/predict 503; ready once the database answers', async () => {
    const { url } = await createTestDatabase();
    const proxy = await TcpProxy.start({ host: new URL(url).hostname, port: Number(new URL(url).port) });
    proxy.setMode('refuse');
    const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: proxy.proxiedUrl(url), FRESHET_DATABASE__MAX_BACKOFF_SECONDS: '1', FRESHET_RETRAIN__SCHEDULE: '' }) });
    try {
      const http = String((await daemon.waitForLog('http listening')).url);
      await daemon.waitForLog('connecting to the database failed; retrying');
      assert.equal((await fetch(`${http}/healthz`)).status, 200);
      const ready = await fetch(`${http}/readyz`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { ready: boolean; checks: Record<string, boolean>; waiting: Record<string, string> };
      assert.equal(body.checks.registry, false);
      assert.match(body.waiting.registry!, /the registry is unreachable \(.+\); attempt \d+, the next in [\d.]+ s/);
      assert.match(await (await fetch(`${http}/metrics`)).text(), /^freshet_registry_up 0$/m);
      const page = await fetch(`${http}/`);
      assert.equal(page.status, 503);
      assert.match(await page.text(), /freshet is starting: the registry is unreachable/);
      const predicted = await fetch(`${http}/v1/predict`, { method: 'POST', body: '{"rows":[{"x0":1}]}' });
      assert.equal(predicted.status, 503);
      assert.match(((await predicted.json()) as { error: string }).error, /freshet is starting/);

      proxy.setMode('pass');
      await daemon.waitForLog('freshet running');
      for (let i = 0; i < 100 && (await fetch(`${http}/readyz`)).status !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await fetch(`${http}/readyz`)).status, 200);
      assert.match(await (await fetch(`${http}/metrics`)).text(), /^freshet_registry_up 1$/m);
    } finally {
      daemon.child.kill('SIGINT');
      await daemon.exited;
      await proxy.close();
    }
  });
});

describe('freshet daemon that cannot start', () => {
  test('a start that fails after the registry opened releases everything: no database connection, no listening port, no handle left (issue #25, item 7)', async () => {
    const { url, db } = await createTestDatabase();
    const database = new URL(url).pathname.slice(1);
    // A lineage started with another definition: the daemon refuses it after migrating, with the pool, the HTTP server and the listener's peers up.
    await createLineage(db, { name: 'default', task: 'regression', config: {}, config_sha256: 'another definition', batch_size: 256, num_checkpoints: 15, stop_point: 3, train_examples: 100, steps_per_epoch: 1, feature_stats: {} });
    const connections = async (): Promise<number> =>
      Number((await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = ${database} and application_name like 'freshet%' and pid <> pg_backend_pid()`.execute(db)).rows[0]!.n);
    const before = await connections(); // this test's own pool
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout');
    const handlesBefore = handles().length;
    const dir = tempDir('freshet-failed-start-');
    const config = loadConfig({ env: { DATABASE_URL: url, FRESHET_DATA_DIR: path.join(dir, 'data'), FRESHET_HTTP__PORT: String(port), FRESHET_COLUMNS__FEATURES: '["x0"]', FRESHET_COLUMNS__LABEL: 'y' }, cwd: dir });
    await assert.rejects(runDaemon({ config, log: createLogger({ level: 'silent', format: 'json' }), signal: new AbortController().signal }), /was started with another definition/);
    for (let i = 0; i < 50 && (await connections()) > before; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await connections(), before, 'every connection the daemon opened is closed');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the HTTP port is closed');
    for (let i = 0; i < 20 && handles().length > handlesBefore; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(handles().length <= handlesBefore, `no handle left behind: ${handles().join(', ')}`);
  });


  test('with its HTTP port taken it exits non-zero naming the address, claims no job and leaves nothing running', async () => {
    const { url, db } = await createTestDatabase();
    const { job } = await enqueueRetrain(db, { lineage: 'default', trigger: 'manual', maxAttempts: 3, reason: 'waiting for a worker' });
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url, FRESHET_HTTP__PORT: String(port) }) });
      const exit = await daemon.exited; // it exits on its own: nothing was left running
      assert.equal(exit.code, 2, daemon.stderr());
      assert.match(daemon.stderr(), new RegExp(`freshet: http: 127\\.0\\.0\\.1:${port} is already in use`));
      assert.doesNotMatch(daemon.stderr(), /driver has already been destroyed|\n\s+at /, 'no crash, no stack trace');
      assert.ok(daemon.lines.some((l) => l.msg === 'freshet stopped'), 'released what it had started');
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
      assert.deepEqual([row.state, row.attempts], ['queued', 0], 'no worker started, so no job was claimed');
    } finally {
      taken.close();
    }
  });
});
