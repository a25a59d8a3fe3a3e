// The real binary in child processes, against a database of this file's own.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { cleanEnv, FRESHET_BIN, runFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-cli-'));
}

describe('freshet CLI', () => {
  test('--version prints the package version; --help lists the working verbs', async () => {
    const version = await runFreshet(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), pkg.version);
    const help = await runFreshet(['--help']);
    assert.equal(help.code, 0);
    for (const verb of ['init', 'migrate', 'status', 'daemon', 'config']) assert.match(help.stdout, new RegExp(`^  ${verb}\\b`, 'm'));
    assert.match(help.stdout, /Exit codes: 0 ok, 1 failure, 2 bad usage, configuration or request \(not found, conflict\),\n3 database unreachable/);
  });

  test('a reader that leaves early (`freshet config --reference | head -1`): exit 0, no stack trace', async () => {
    const child = spawn(process.execPath, [FRESHET_BIN, 'config', '--reference'], { env: cleanEnv(), cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });

  test("the README's CLI table lists every verb with every one of its options, and nothing that does not exist (issue #24, item 14)", async () => {
    const { buildProgram } = await import('../src/cli/main.ts');
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = new Map([...readme.matchAll(/^\| `freshet ([a-z]+)([^`]*)` \|/gm)].map((m) => [m[1]!, m[2]!]));
    const verbs = buildProgram().commands.map((c) => c.name());
    assert.deepEqual([...rows.keys()].sort(), [...verbs].sort(), 'the table and the program list the same verbs');
    for (const command of buildProgram().commands) {
      const row = rows.get(command.name())!;
      for (const option of command.options) assert.ok(row.includes(option.long!), `the README's row for ${command.name()} names ${option.long}`);
      for (const argument of command.registeredArguments) assert.ok(row.replaceAll('\\|', '|').includes(argument.name()), `the README's row for ${command.name()} names <${argument.name()}>`);
      // Sub-verbs (schema show, partitions accept, …) are described in their verb's row.
      for (const sub of command.commands) {
        assert.ok(row.includes(sub.name()) || readme.includes(`freshet ${command.name()} ${sub.name()}`) || new RegExp(`freshet ${command.name()} [a-z|\\\\]*${sub.name()}`).test(readme), `the README names ${command.name()} ${sub.name()}`);
        for (const option of sub.options) assert.ok(readme.split('\n').some((line) => line.startsWith(`| \`freshet ${command.name()}`) && line.includes(option.long!)), `the README's row for ${command.name()} names ${sub.name()}'s ${option.long}`);
      }
    }
  });

  test('started by an older system Node, the bin runs itself on the pinned Node 24: the same answer and exit code', async (t) => {
    const systemNode = process.env.SYSTEM_NODE ?? '/usr/bin/node';
    const { execFileSync, spawnSync } = await import('node:child_process');
    let version: string;
    try {
      version = execFileSync(systemNode, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return t.skip(`no ${systemNode}`);
    }
    const [major, minor] = version.slice(1).split('.').map(Number) as [number, number];
    if (major > 22 || (major === 22 && minor >= 18)) return t.skip(`${systemNode} is ${version}: it runs freshet itself`);
    const bin = fileURLToPath(new URL('../bin/freshet.mjs', import.meta.url));
    const run = spawnSync(systemNode, [bin, '--version'], { encoding: 'utf8', cwd: tempDir() });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), pkg.version);
    const usage = spawnSync(systemNode, [bin, 'no-such-verb'], { encoding: 'utf8', cwd: tempDir() });
    assert.equal(usage.status, 2, 'the exit code comes through');
  });

  test('exit codes come from the error class: a missing run exits 2, the same command on a dead server exits 3', async () => {
    const { url } = await createTestDatabase();
    const missing = await runFreshet(['checkpoints', '99'], { env: cleanEnv({ DATABASE_URL: url }) });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /run 99 does not exist/);
    const dead = await runFreshet(['checkpoints', '99'], { env: cleanEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }) });
    assert.equal(dead.code, 3, dead.stderr);
    assert.doesNotMatch(dead.stderr, /does not exist/, 'a lost connection is not reported as a missing run');
  });

  test('exitCodeFor maps classes, not messages', async () => {
    const { exitCodeFor } = await import('../src/cli/exit-codes.ts');
    const { ConfigError, ConflictError, NotFoundError, TrainingError, DatabaseUnavailableError } = await import('../src/core/errors.ts');
    const { UsageError } = await import('../src/cli/usage-error.ts');
    const { openRegistry, getRun } = await import('../src/registry/index.ts');
    const { createLogger } = await import('../src/core/log.ts');
    assert.deepEqual(
      [new UsageError('x'), new ConfigError('x'), new NotFoundError('x'), new ConflictError('x'), new TrainingError('x'), new DatabaseUnavailableError('x'), new Error('run 99 does not exist')].map(exitCodeFor),
      [2, 2, 2, 2, 1, 3, 1],
    );
    // A real lost connection (refused), as a repository call sees it mid-command.
    const dead = openRegistry('postgres://postgres@127.0.0.1:1/nowhere', { connectTimeoutSeconds: 2, log: createLogger({ level: 'silent', format: 'json' }) });
    const error = await getRun(dead, '99').catch((e: unknown) => e);
    await dead.destroy();
    assert.equal(exitCodeFor(error), 3, String(error));
  });

  test('an unknown verb or option exits 2', async () => {
    assert.equal((await runFreshet(['frobnicate'])).code, 2);
    assert.equal((await runFreshet(['status', '--jsn'])).code, 2);
  });

  test('bad config exits 2 naming the file and the key', async () => {
    const dir = tempDir();
    const unknown = path.join(dir, 'unknown.yaml');
    fs.writeFileSync(unknown, 'log:\n  colour: blue\n');
    const r1 = await runFreshet(['--config', unknown, 'status']);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, new RegExp(`${unknown}: log\\.colour: unknown key`));

    const wrongType = path.join(dir, 'wrong.yaml');
    fs.writeFileSync(wrongType, 'daemon:\n  shutdownTimeoutSeconds: "later"\n');
    const r2 = await runFreshet(['--config', wrongType, 'migrate']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, new RegExp(`${wrongType}: daemon\\.shutdownTimeoutSeconds: .*expected number`));

    const r3 = await runFreshet(['--config', path.join(dir, 'missing.yaml'), 'status']);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /missing\.yaml does not exist/);
  });

  test('an unreachable DATABASE_URL fails with exit 3 and a clear message (a one-shot command does not wait for the server)', async () => {
    const result = await runFreshet(['status'], { env: cleanEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }) });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere/);
  });

  test('the password in DATABASE_URL never appears in messages', async () => {
    const result = await runFreshet(['status'], { env: cleanEnv({ DATABASE_URL: 'postgres://u:s3cret@127.0.0.1:1/x' }) });
    assert.equal(result.code, 3);
    assert.doesNotMatch(result.stderr, /s3cret/);
  });

  test('migrate twice in a row and twice at once succeed; status --json reports version and counts', async () => {
    const { url } = await createTestDatabase({ migrated: false });
    const env = cleanEnv({ DATABASE_URL: url });
    const first = await runFreshet(['migrate'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied /);
    const second = await runFreshet(['migrate'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^schema already current/);

    const { url: url2 } = await createTestDatabase({ migrated: false });
    const env2 = cleanEnv({ DATABASE_URL: url2 });
    const both = await Promise.all([runFreshet(['migrate'], { env: env2 }), runFreshet(['migrate'], { env: env2 })]);
    assert.deepEqual(both.map((r) => r.code), [0, 0], both.map((r) => r.stderr).join('\n'));
    assert.equal(both.filter((r) => r.stdout.startsWith('applied')).length, 1, 'exactly one of them applied the migrations');

    const status = await runFreshet(['status', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { schemaVersion: string; pendingMigrations: string[]; tables: Record<string, number> };
    assert.match(parsed.schemaVersion, /^\d{4}-\d{2}-\d{2}T\d{4}_/);
    assert.deepEqual(parsed.pendingMigrations, []);
    assert.equal(parsed.tables.partitions, 0);
    assert.equal(parsed.tables.lineages, 0);

    const human = await runFreshet(['status'], { env });
    assert.match(human.stdout, /^schema version: /m);
    assert.match(human.stdout, /^partitions\s+0$/m);
  });

  test('init writes a starter config that validates, and the data-dir layout; it will not overwrite', async () => {
    const dir = tempDir();
    const init = await runFreshet(['init', dir]);
    assert.equal(init.code, 0, init.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'freshet.config.yaml')));
    assert.ok(fs.statSync(path.join(dir, 'data')).isDirectory());
    assert.ok(fs.existsSync(path.join(dir, 'data', 'README.txt')));
    const config = await runFreshet(['config'], { cwd: dir });
    assert.equal(config.code, 0, config.stderr);
    assert.equal(JSON.parse(config.stdout).dataDir, path.join(dir, 'data'));
    const again = await runFreshet(['init', dir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; pass --force/);
    assert.equal((await runFreshet(['init', dir, '--force'])).code, 0);
  });
});
