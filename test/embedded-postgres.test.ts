// The embedded-Postgres path a new user gets: always exercised, whatever TEST_DATABASE_URL says.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../src/core/log.ts';
import { startEmbeddedPostgres } from '../src/registry/index.ts';
import { binariesReachableBy, serverUser } from '../src/registry/embedded-postgres.ts';
import { execFileSync } from 'node:child_process';
import { cleanEnv, runFreshet } from './support/cli.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const holderScript = new URL('./support/embedded-holder.ts', import.meta.url).pathname;

/** A temp dir the server's system user can enter (mkdtemp makes 0700 dirs). */
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-embedded-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

function holder(dataDir: string) {
  const child = spawn(process.execPath, [holderScript, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async next(): Promise<string> {
      const { value, done } = await lines.next();
      if (done) throw new Error('holder exited');
      return value as string;
    },
  };
}

function serverRunning(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'postmaster.pid'));
}

describe('embedded PostgreSQL', () => {
  test('initialises, starts on a free 127.0.0.1 port, answers SQL, and stops', async () => {
    const dataDir = path.join(tempDir(), 'pg');
    const server = await startEmbeddedPostgres({ dataDir, port: 0, database: 'freshet', log });
    try {
      assert.equal(server.owned, true);
      assert.match(server.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/freshet$/);
      const rows = (await query(server.url, 'select current_database() as db, inet_server_addr()::text as addr')) as Array<{ db: string; addr: string }>;
      assert.equal(rows[0]?.db, 'freshet');
      assert.match(rows[0]!.addr, /^127\.0\.0\.1/);
      if (process.getuid?.() === 0) {
        const owner = fs.statSync(dataDir).uid;
        assert.notEqual(owner, 0, 'as root, the data dir belongs to a system user, not root');
      }
    } finally {
      await server.stop();
    }
    assert.equal(serverRunning(dataDir), false, 'stopped cleanly: no postmaster.pid left');
  });

  test('a second process on the same data dir shares the running server; the last one stops it', async () => {
    const dataDir = path.join(tempDir(), 'pg');
    const first = holder(dataDir);
    const info = JSON.parse(await first.next()) as { url: string; port: number; owned: boolean };
    assert.equal(info.owned, true);
    const second = await startEmbeddedPostgres({ dataDir, port: 0, database: 'freshet', log });
    assert.equal(second.owned, false, 'the live owner keeps ownership');
    assert.equal(second.port, info.port, 'same server, same port');
    const client = new pg.Client({ connectionString: second.url, application_name: 'freshet' });
    await client.connect();
    first.child.stdin!.write('stop\n');
    assert.equal(await first.next(), 'stopped');
    assert.equal(serverRunning(dataDir), true, 'the owner left it running: another freshet is connected');
    assert.deepEqual((await client.query('select 1 as one')).rows, [{ one: 1 }]);
    await client.end();
    await second.stop();
    assert.equal(serverRunning(dataDir), false, 'the last user stopped it');
  });

  test('after the owner is killed with SIGKILL, the next start adopts the still-running server', async () => {
    const dataDir = path.join(tempDir(), 'pg');
    const first = holder(dataDir);
    const info = JSON.parse(await first.next()) as { port: number };
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));
    const next = await startEmbeddedPostgres({ dataDir, port: 0, database: 'freshet', log });
    assert.equal(next.owned, true);
    assert.equal(next.port, info.port);
    await next.stop();
    assert.equal(serverRunning(dataDir), false);
  });

  test('as root, binaries the server user cannot reach are copied to a folder it can', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
    const runAs = (await serverUser(log))!;
    const { pg_ctl } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string };
    const native = path.dirname(path.dirname(path.dirname(pg_ctl))); // <package>/native/bin/pg_ctl → <package>
    const hidden = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-hidden-')); // 0700: the server user cannot enter
    fs.cpSync(path.join(native, 'native'), path.join(hidden, 'native'), { recursive: true, verbatimSymlinks: true });
    const unreachable = { initdb: path.join(hidden, 'native/bin/initdb'), pg_ctl: path.join(hidden, 'native/bin/pg_ctl') };
    const usable = await binariesReachableBy(unreachable, runAs, log);
    assert.ok(!usable.pg_ctl.startsWith(hidden), 'relocated');
    assert.ok(usable.pg_ctl.startsWith(os.tmpdir()));
    const version = execFileSync(usable.initdb, ['--version'], { uid: runAs.uid, gid: runAs.gid, encoding: 'utf8' });
    assert.match(version, /initdb \(PostgreSQL\) \d+/);
    const reachable = await binariesReachableBy(usable, runAs, log);
    assert.deepEqual(reachable, usable, 'reachable binaries are used where they are');
    fs.rmSync(hidden, { recursive: true, force: true });
  });

  test('`freshet migrate` and `status` with no DATABASE_URL use an embedded server under .freshet/pg', async () => {
    const cwd = tempDir();
    const migrate = await runFreshet(['migrate', '--verbose'], { cwd, env: cleanEnv() }); // one-shot verbs log info lines only when asked
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stderr, /embedded PostgreSQL ready/);
    assert.match(migrate.stderr, /psql 'postgres:\/\/postgres@127\.0\.0\.1:\d+\/freshet'/, 'logs how to connect with psql');
    assert.equal(serverRunning(path.join(cwd, '.freshet/pg')), false, 'one-shot command stops the server it started');
    const status = await runFreshet(['status', '--json'], { cwd, env: cleanEnv() });
    assert.equal(status.code, 0, status.stderr);
    assert.match(JSON.parse(status.stdout).schemaVersion, /^\d{4}-\d{2}-\d{2}T\d{4}_/);
  });
});
