// `freshet scan`, `freshet partitions` and the daemon's watcher, as real processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { listPartitions } from '../src/registry/index.ts';
import { cleanEnv, runFreshet, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { FEATURES, LABEL, syntheticRows, tempDir, writeCsv } from './support/partitions.ts';

function env(dir: string, url: string, extra: Record<string, string> = {}) {
  return cleanEnv({
    DATABASE_URL: url,
    FRESHET_DATA_DIR: path.join(dir, 'data'),
    FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES),
    FRESHET_COLUMNS__LABEL: LABEL,
    ...extra,
  });
}

function partition(dir: string, rel: string, rows: number[][]): void {
  writeCsv(path.join(dir, 'data', rel, 'part-0.csv'), rows);
  fs.writeFileSync(path.join(dir, 'data', rel, '_SUCCESS'), '');
}

describe('watcher from the command line', () => {
  test('scan registers once and reports outcomes; partitions lists them with errors', async () => {
    const { url } = await createTestDatabase();
    const dir = tempDir('freshet-scan-');
    partition(dir, 'dt=2026-11-01', syntheticRows(20, 1));
    partition(dir, 'dt=2026-11-02', [[1, 2, 3, 4, 5]]);
    fs.appendFileSync(path.join(dir, 'data', 'dt=2026-11-02', 'part-0.csv'), 'a,b,c,d,e\n');
    const first = await runFreshet(['scan', '--json'], { env: env(dir, url) });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(JSON.parse(first.stdout), { registered: 1, quarantined: 0, rejected: 1, unchanged: 0, vanished: 0, failed: 0, waiting: 0 });
    const second = await runFreshet(['scan', '--json'], { env: env(dir, url) });
    assert.deepEqual(JSON.parse(second.stdout), { registered: 0, quarantined: 0, rejected: 0, unchanged: 2, vanished: 0, failed: 0, waiting: 0 });

    const listed = await runFreshet(['partitions', '--json'], { env: env(dir, url) });
    const rows = JSON.parse(listed.stdout) as Array<{ path: string; status: string; error: string | null; row_count: string }>;
    assert.equal(rows.length, 2);
    assert.match(rows.find((r) => r.status === 'rejected')!.error!, /dt=2026-11-02\/part-0\.csv, line 3, column x0: not a number: "a"/);
    const rejected = await runFreshet(['partitions', '--status', 'rejected'], { env: env(dir, url) });
    assert.match(rejected.stdout, /^id\s+path\s+v\s+status\s+rows\s+invalid\s+arrived\s+error$/m);
    assert.match(rejected.stdout, /dt=2026-11-02 .* rejected/);
    assert.doesNotMatch(rejected.stdout, /dt=2026-11-01/);
  });

  test('killed with SIGKILL mid-registration: no half row; the next scan registers each partition once', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-scan-');
    // Large enough that hashing and validating takes a while.
    const rows = syntheticRows(20_000, 3);
    for (let i = 0; i < 6; i++) partition(dir, `dt=2026-11-1${i}`, rows.map((r) => [...r.slice(0, 4), r[4]! + i]));
    const child = spawnFreshet(['scan'], { env: env(dir, url, { FRESHET_LOG__LEVEL: 'info' }) });
    await child.waitForLog('partition registered', 60_000).catch(() => undefined);
    child.child.kill('SIGKILL');
    await child.exited;
    const before = await listPartitions(db);
    assert.ok(before.every((p) => p.status === 'registered' && Number(p.row_count) > 0 && p.files.length === 1), 'rows that exist are complete');
    assert.ok(before.length < 6, `killed before the end (${before.length} of 6 registered)`);
    const again = await runFreshet(['scan', '--json'], { env: env(dir, url) });
    assert.equal(again.code, 0, again.stderr);
    const after = await listPartitions(db);
    assert.equal(after.length, 6);
    assert.equal(new Set(after.map((p) => p.path)).size, 6);
  });

  test('the daemon registers partitions as they arrive, and keeps running after a bad one', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-daemon-watch-');
    partition(dir, 'dt=2026-11-01', syntheticRows(20, 1)); // arrived while the daemon was down
    const daemon = spawnFreshet(['daemon'], { env: env(dir, url, { FRESHET_LOG__LEVEL: 'info' }) });
    await daemon.waitForLog('watching for partitions');
    assert.equal((await listPartitions(db)).length, 1, 'startup scan registered the waiting partition');
    fs.mkdirSync(path.join(dir, 'data', 'dt=2026-11-02'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'dt=2026-11-02', '_SUCCESS'), ''); // marker without data
    partition(dir, 'dt=2026-11-03', syntheticRows(20, 3));
    for (let i = 0; i < 200 && (await listPartitions(db)).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const rows = Object.fromEntries((await listPartitions(db)).map((p) => [p.path, p.status]));
    assert.deepEqual(rows, { 'dt=2026-11-01': 'registered', 'dt=2026-11-02': 'rejected', 'dt=2026-11-03': 'registered' });
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr());
  });
});
