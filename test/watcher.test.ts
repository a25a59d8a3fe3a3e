// The watcher on real files in temp dirs, registering into a real PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { countRegistration, createMetrics } from '../src/observability/index.ts';
import { CHANNELS, listEvents, listPartitions, listWaitingPartitions, waitingSummary, type Registry } from '../src/registry/index.ts';
import { PartitionWatcher, parsePartitionPath, registerPartition, type RegistrationOutcome } from '../src/watcher/index.ts';
import { waitFor } from './support/wait.ts';
import { createTestDatabase } from './support/database.ts';
import { FEATURES, LABEL, syntheticRows, tempDir, writeCsv } from './support/partitions.ts';

const log = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent', format: 'json' });

function config(dir: string, extra: Record<string, string> = {}) {
  return loadConfig({
    env: {
      FRESHET_DATA_DIR: path.join(dir, 'data'),
      FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES),
      FRESHET_COLUMNS__LABEL: LABEL,
      FRESHET_WATCHER__RESCAN_INTERVAL_SECONDS: '0',
      ...extra,
    },
    cwd: dir,
  });
}

async function startWatcher(db: Registry, dir: string, extra: Record<string, string> = {}) {
  const metrics = createMetrics();
  const watcher = new PartitionWatcher({ db, config: config(dir, extra), log });
  const outcomes: RegistrationOutcome[] = [];
  watcher.on('outcome', (o, arrivedAt) => countRegistration(metrics, ['default'], o, arrivedAt)); // as the daemon wires it
  watcher.on('outcome', (o) => outcomes.push(o));
  await watcher.start();
  after(() => watcher.stop());
  return { watcher, outcomes, metrics };
}

/** Writes a partition's CSV (and the marker unless `marker: false`). */
function writePartition(dir: string, rel: string, rows: number[][], { marker = true, file = 'part-0.csv' } = {}): string {
  const partitionDir = path.join(dir, 'data', rel);
  writeCsv(path.join(partitionDir, file), rows);
  if (marker) fs.writeFileSync(path.join(partitionDir, '_SUCCESS'), '');
  return partitionDir;
}

const byPath = async (db: Registry, rel: string) => (await listPartitions(db)).filter((p) => p.path === rel);

describe('partition paths', () => {
  test('Hive keys parse into typed values; other directories are not partitions', () => {
    assert.deepEqual(parsePartitionPath('dt=2026-11-26/hour=13'), { dt: '2026-11-26', hour: 13 });
    assert.deepEqual(parsePartitionPath('city=S%C3%A3o Paulo'), { city: 'São Paulo' });
    assert.deepEqual(parsePartitionPath('id=007'), { id: '007' }, 'leading zeros stay strings');
    assert.equal(parsePartitionPath('tmp'), null);
    assert.equal(parsePartitionPath('dt=2026-11-26/tmp'), null);
  });
});

describe('watcher', () => {
  test('startup scan registers partitions that arrived while stopped; incomplete ones wait for their marker', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    writePartition(dir, 'dt=2026-11-01', syntheticRows(100, 1));
    writePartition(dir, 'dt=2026-11-02/hour=13', syntheticRows(50, 2));
    const pending = writePartition(dir, 'dt=2026-11-03', syntheticRows(70, 3), { marker: false });
    const { outcomes } = await startWatcher(db, dir);
    const rows = await listPartitions(db);
    assert.deepEqual(rows.map((r) => r.path).sort(), ['dt=2026-11-01', 'dt=2026-11-02/hour=13']);
    const nested = rows.find((r) => r.path === 'dt=2026-11-02/hour=13')!;
    assert.deepEqual(nested.keys, { dt: '2026-11-02', hour: 13 });
    assert.equal(Number(nested.row_count), 50);
    assert.deepEqual(nested.files, [{ name: 'part-0.csv', bytes: fs.statSync(path.join(dir, 'data', 'dt=2026-11-02/hour=13/part-0.csv')).size }]);
    assert.equal(nested.schema?.x0, 'number');
    assert.equal(nested.arrived_at.getTime(), fs.statSync(path.join(dir, 'data', 'dt=2026-11-02/hour=13/_SUCCESS')).mtime.getTime());
    // The data file of the third partition is there, but its marker is not: nothing yet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await byPath(db, 'dt=2026-11-03')).length, 0);
    fs.writeFileSync(path.join(pending, '_SUCCESS'), '');
    await waitFor('the marked partition', async () => (await byPath(db, 'dt=2026-11-03'))[0]);
    assert.equal(outcomes.filter((o) => o.kind === 'registered').length, 3);
  });

  test('a burst of concurrent arrivals: each registered exactly once', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const { watcher } = await startWatcher(db, dir);
    const n = 40;
    await Promise.all(Array.from({ length: n }, async (_, i) => writePartition(dir, `dt=2026-12-${String(i + 1).padStart(2, '0')}`, syntheticRows(30, i))));
    await waitFor('all partitions', async () => ((await listPartitions(db)).length === n ? true : undefined), 20_000);
    await watcher.scan(); // a rescan on top finds nothing new
    const rows = await listPartitions(db);
    assert.equal(rows.length, n);
    assert.equal(new Set(rows.map((r) => r.path)).size, n);
    assert.ok(rows.every((r) => r.status === 'registered'));
  });

  test('the same content again is a no-op (unchanged, not counted); changed content is a new version that supersedes the old', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const partitionDir = writePartition(dir, 'dt=2026-11-05', syntheticRows(40, 5));
    const { watcher, outcomes, metrics } = await startWatcher(db, dir);
    await watcher.scan();
    fs.writeFileSync(path.join(partitionDir, '_SUCCESS'), ''); // marker touched again
    await waitFor('unchanged outcome', () => (outcomes.filter((o) => o.kind === 'unchanged').length >= 2 ? true : undefined));
    assert.equal((await byPath(db, 'dt=2026-11-05')).length, 1);

    // A producer rewriting the partition later (chokidar can merge two marker writes a few
    // ms apart into one event; the periodic rescan is the safety net for that).
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeCsv(path.join(partitionDir, 'part-0.csv'), syntheticRows(60, 6));
    fs.writeFileSync(path.join(partitionDir, '_SUCCESS'), '');
    const [v2, v1] = await waitFor('version 2', async () => {
      const rows = await byPath(db, 'dt=2026-11-05');
      return rows.length === 2 ? rows : undefined;
    });
    assert.equal(v2!.version, 2);
    assert.equal(v2!.status, 'registered');
    assert.equal(Number(v2!.row_count), 60);
    assert.equal(v1!.status, 'superseded');
    assert.equal(v1!.superseded_by, v2!.id);
    const events = await listEvents(db, { kind: 'partition.superseded' });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.partition_id, v1!.id);
    const counted = await metrics.registry.getSingleMetricAsString('freshet_partitions_total');
    assert.match(counted, /status="superseded"} 1/);
    assert.match(counted, /status="registered"} 2/);
    assert.doesNotMatch(counted, /status="(duplicate|unchanged)"/, 're-checks of the same content are not partitions seen (issue #24, item 10)');
  });

  test('a rejected partition fixed by rewriting its file registers without touching the marker, and its rejection is superseded (issue #24, item 7)', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const partitionDir = writePartition(dir, 'dt=2026-11-07', syntheticRows(40, 7));
    fs.appendFileSync(path.join(partitionDir, 'part-0.csv'), 'a,b,c,d,e\n');
    const { metrics } = await startWatcher(db, dir);
    const [rejected] = await waitFor('the rejection', async () => {
      const rows = await byPath(db, 'dt=2026-11-07');
      return rows[0]?.status === 'rejected' ? rows : undefined;
    });
    // The producer fixes the file in place; the marker is left as it was.
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeCsv(path.join(partitionDir, 'part-0.csv'), syntheticRows(40, 7));
    const [fixed, old] = await waitFor('the fixed version', async () => {
      const rows = await byPath(db, 'dt=2026-11-07');
      return rows.length === 2 ? rows : undefined;
    });
    assert.equal(fixed!.status, 'registered');
    assert.equal(fixed!.version, 2);
    assert.equal(old!.id, rejected!.id);
    assert.equal(old!.status, 'superseded', 'the old rejection is no longer counted as rejected');
    assert.equal(old!.superseded_by, fixed!.id);
    assert.equal((await listPartitions(db, { status: 'rejected' })).length, 0);
    const counted = await metrics.registry.getSingleMetricAsString('freshet_partitions_total');
    assert.match(counted, /status="rejected"} 1/);
    assert.match(counted, /status="registered"} 1/);
    assert.match(counted, /status="superseded"} 1/);
    // A registered partition rewritten in place waits for its marker (a producer writing file by file is not done yet).
    writeCsv(path.join(partitionDir, 'part-0.csv'), syntheticRows(50, 8));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal((await byPath(db, 'dt=2026-11-07')).length, 2, 'no version from a change without the marker');
    fs.writeFileSync(path.join(partitionDir, '_SUCCESS'), '');
    await waitFor('version 3 after the marker', async () => ((await byPath(db, 'dt=2026-11-07')).length === 3 ? true : undefined));
  });

  test('`duplicate` is the same content under another path, registered and counted once as such (issue #24, item 10)', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const rows = syntheticRows(30, 9);
    writePartition(dir, 'dt=2026-11-08', rows);
    const { watcher, outcomes, metrics } = await startWatcher(db, dir);
    writePartition(dir, 'dt=2026-11-09', rows); // the same day written twice
    await waitFor('the copy', async () => (await byPath(db, 'dt=2026-11-09'))[0]);
    await watcher.scan();
    assert.equal((await listPartitions(db, { status: 'registered' })).length, 2);
    const copy = outcomes.find((o) => o.kind === 'registered' && o.copyOf);
    assert.ok(copy?.kind === 'registered' && copy.copyOf?.path === 'dt=2026-11-08');
    const counted = await metrics.registry.getSingleMetricAsString('freshet_partitions_total');
    assert.match(counted, /status="duplicate"} 1/);
    assert.match(counted, /status="registered"} 2/);
  });

  test('a listener that throws on an outcome does not turn a committed registration into a failure (issue #25, item 6)', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    writePartition(dir, 'dt=2026-11-12', syntheticRows(30, 12));
    const watcher = new PartitionWatcher({ db, config: config(dir), log });
    const failures: Error[] = [];
    watcher.on('outcome', () => {
      throw new Error('a broken metrics listener');
    });
    watcher.on('failure', (error) => failures.push(error));
    await watcher.scan();
    assert.equal((await byPath(db, 'dt=2026-11-12'))[0]?.status, 'registered');
    assert.deepEqual(failures, [], 'no failure reported for a registration that committed');
  });

  test('a partition without its marker is recorded as waiting (files, bytes, since when) until it registers (issue #24, item 8)', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const early = writePartition(dir, 'dt=2026-11-10', syntheticRows(30, 10), { marker: false });
    const { watcher } = await startWatcher(db, dir);
    let waiting = await listWaitingPartitions(db);
    assert.deepEqual(waiting.map((w) => [w.path, w.files, Number(w.bytes)]), [['dt=2026-11-10', 1, fs.statSync(path.join(early, 'part-0.csv')).size]]);
    // One that arrives while the daemon runs is noticed from its file events, without a rescan.
    writePartition(dir, 'dt=2026-11-11', syntheticRows(30, 11), { marker: false });
    waiting = await waitFor('the second waiting partition', async () => {
      const rows = await listWaitingPartitions(db);
      return rows.length === 2 ? rows : undefined;
    });
    assert.equal(waiting[0]!.path, 'dt=2026-11-10', 'the longest-waiting first');
    assert.deepEqual(await waitingSummary(db).then((s) => s.count), 2);
    fs.writeFileSync(path.join(early, '_SUCCESS'), '');
    await waitFor('registered and no longer waiting', async () => ((await listWaitingPartitions(db)).length === 1 && (await byPath(db, 'dt=2026-11-10'))[0] ? true : undefined));
    fs.rmSync(path.join(dir, 'data', 'dt=2026-11-11'), { recursive: true });
    await watcher.scan();
    assert.deepEqual(await listWaitingPartitions(db), [], 'a scan forgets what no longer waits');
  });

  test('rejections of each kind name the file, line and column; the watcher keeps going', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const data = path.join(dir, 'data');
    writePartition(dir, 'kind=missing-column', [[1, 2, 3, 5]], { marker: true, file: 'a.csv' });
    fs.writeFileSync(path.join(data, 'kind=missing-column', 'a.csv'), 'x0,x1,x2,y\n1,2,3,4\n');
    writePartition(dir, 'kind=non-numeric', [[1, 2, 3, 4, 5]]);
    fs.appendFileSync(path.join(data, 'kind=non-numeric', 'part-0.csv'), '1,2,three,4,5\n');
    writePartition(dir, 'kind=non-numeric-label', [[1, 2, 3, 4, 5]]);
    fs.appendFileSync(path.join(data, 'kind=non-numeric-label', 'part-0.csv'), '1,2,3,4,twelve dollars\n');
    fs.mkdirSync(path.join(data, 'kind=empty'), { recursive: true });
    fs.writeFileSync(path.join(data, 'kind=empty', '_SUCCESS'), '');
    writePartition(dir, 'kind=header-only', []);
    writePartition(dir, 'kind=unknown-type', [[1, 2, 3, 4, 5]]);
    fs.writeFileSync(path.join(data, 'kind=unknown-type', 'notes.xlsx'), 'PK');
    fs.mkdirSync(path.join(data, 'kind=truncated-parquet'), { recursive: true });
    const parquet = new Uint8Array(parquetWriteBuffer({ columnData: [...FEATURES, LABEL].map((name) => ({ name, data: Float64Array.from({ length: 500 }, (_, i) => i), type: 'DOUBLE' as const })) }));
    fs.writeFileSync(path.join(data, 'kind=truncated-parquet', 'p.parquet'), parquet.subarray(0, parquet.length - 40));
    fs.writeFileSync(path.join(data, 'kind=truncated-parquet', '_SUCCESS'), '');
    fs.mkdirSync(path.join(data, 'kind=binary-junk'), { recursive: true });
    fs.writeFileSync(path.join(data, 'kind=binary-junk', 'junk.csv'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x42]));
    fs.writeFileSync(path.join(data, 'kind=binary-junk', '_SUCCESS'), '');
    const { watcher } = await startWatcher(db, dir);
    await watcher.scan();
    const rows = Object.fromEntries((await listPartitions(db)).map((r) => [r.path, r]));
    const expect: Record<string, RegExp> = {
      'kind=missing-column': /^kind=missing-column\/a\.csv, line 1: missing column "x3"/,
      'kind=non-numeric': /^kind=non-numeric\/part-0\.csv, line 3, column x2: not a number: "three"/,
      'kind=non-numeric-label': /^kind=non-numeric-label\/part-0\.csv, line 3, column y: not a number: "twelve dollars"/,
      'kind=empty': /kind=empty: empty partition: no data files/,
      'kind=header-only': /kind=header-only: empty partition: the data files hold no rows/,
      'kind=unknown-type': /^kind=unknown-type\/notes\.xlsx: unknown file type/,
      'kind=truncated-parquet': /^kind=truncated-parquet\/p\.parquet: not a readable Parquet file/,
      'kind=binary-junk': /^kind=binary-junk\/junk\.csv, line \d+: /,
    };
    for (const [rel, pattern] of Object.entries(expect)) {
      assert.equal(rows[rel]?.status, 'rejected', `${rel} is rejected`);
      assert.match(rows[rel]!.error!, pattern, rel);
    }
    // Still watching: a good partition after all that registers.
    writePartition(dir, 'kind=good', syntheticRows(20, 1));
    await waitFor('the good partition', async () => (await byPath(db, 'kind=good'))[0]?.status === 'registered' || undefined);
  });

  test('invalidRows: reject turns a NaN or empty value into a rejection naming line and column', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    writePartition(dir, 'dt=2026-11-07', [[1, 2, 3, 4, 5], [1, 2, 3, Number.NaN, 5]]);
    await startWatcher(db, dir, { FRESHET_TRAINING__INVALID_ROWS: 'reject' });
    const [row] = await byPath(db, 'dt=2026-11-07');
    assert.equal(row?.status, 'rejected');
    assert.match(row!.error!, /dt=2026-11-07\/part-0\.csv, line 3, column x3: missing, NaN or infinite value/);
  });

  test('huge values: beyond float64 is infinite (skipped and counted, or rejected naming line and column)', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    writePartition(dir, 'dt=2026-11-10', [[1, 2, 3, 4, 5]]);
    fs.appendFileSync(path.join(dir, 'data', 'dt=2026-11-10', 'part-0.csv'), '1,2,3,4,1e400\n1,2,3,4,6\n');
    await startWatcher(db, dir);
    const [skipped] = await byPath(db, 'dt=2026-11-10');
    assert.equal(skipped?.status, 'registered');
    const event = await db.selectFrom('events').select('data').where('partition_id', '=', skipped!.id).where('kind', '=', 'partition.registered').executeTakeFirstOrThrow();
    assert.equal((event.data as { invalidRows: number }).invalidRows, 1, 'counted as invalid (and skipped by training)');
    const strict = await createTestDatabase();
    await startWatcher(strict.db, dir, { FRESHET_TRAINING__INVALID_ROWS: 'reject' });
    const [rejected] = await byPath(strict.db, 'dt=2026-11-10');
    assert.equal(rejected?.status, 'rejected');
    assert.match(rejected!.error!, /dt=2026-11-10\/part-0\.csv, line 3, column y: missing, NaN or infinite value/);
  });

  test('symlinks that resolve outside the data root are ignored; nothing in the data dir is changed', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const outside = tempDir('freshet-outside-');
    writeCsv(path.join(outside, 'part-0.csv'), syntheticRows(10, 1));
    fs.writeFileSync(path.join(outside, '_SUCCESS'), '');
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, 'data', 'dt=2026-11-08'));
    const inside = writePartition(dir, 'dt=2026-11-09', syntheticRows(10, 2));
    fs.symlinkSync(path.join(outside, 'part-0.csv'), path.join(inside, 'escape.csv'));
    const before = fs.readdirSync(inside).sort();
    await startWatcher(db, dir);
    const rows = await listPartitions(db);
    assert.deepEqual(rows.map((r) => r.path), ['dt=2026-11-09']);
    assert.deepEqual(rows[0]!.files.map((f) => f.name), ['part-0.csv'], 'the symlinked file is not content');
    assert.deepEqual(fs.readdirSync(inside).sort(), before, 'nothing moved, added or deleted');
  });

  test('odd characters in partition names are handled', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    writePartition(dir, "city=S%C3%A3o Paulo/note=it's \"fine\"", syntheticRows(10, 1));
    await startWatcher(db, dir);
    const [row] = await listPartitions(db);
    assert.deepEqual(row?.keys, { city: 'São Paulo', note: 'it\'s "fine"' });
  });

  test('stable mode: a partition without a marker registers once its files stop changing', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    await startWatcher(db, dir, { FRESHET_WATCHER__MODE: 'stable', FRESHET_WATCHER__STABLE_MS: '300' });
    const started = Date.now();
    writePartition(dir, 'dt=2026-11-10', syntheticRows(10, 1), { marker: false });
    const row = await waitFor('stable partition', async () => (await byPath(db, 'dt=2026-11-10'))[0]);
    assert.ok(Date.now() - started >= 300, 'not before the quiet period');
    assert.equal(row.status, 'registered');
  });

  test('polling mode (for network filesystems) detects partitions too; detection time is measured', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const { metrics } = await startWatcher(db, dir, { FRESHET_WATCHER__POLLING: 'true', FRESHET_WATCHER__POLL_INTERVAL_MS: '100' });
    // Polling compares mtimes: a directory changed within the same moment as the poller's
    // first stat looks unchanged (then only the periodic rescan finds it). Let it settle.
    await new Promise((resolve) => setTimeout(resolve, 500));
    writePartition(dir, 'dt=2026-11-13', syntheticRows(10, 1));
    await waitFor('polled partition', async () => (await byPath(db, 'dt=2026-11-13'))[0]);
    const histogram = await metrics.registry.getSingleMetricAsString('freshet_partition_detect_seconds');
    assert.match(histogram, /freshet_partition_detect_seconds_count{lineage="default"} 1/);
  });

  test('a directory deleted before or while it is registered leaves no row', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-watch-');
    const partitionDir = writePartition(dir, 'dt=2026-11-11', syntheticRows(10, 1));
    fs.rmSync(partitionDir, { recursive: true });
    const outcome = await registerPartition({ db, root: path.join(dir, 'data'), relativePath: 'dt=2026-11-11', arrivedAt: new Date(), rules: { numericColumns: [...FEATURES, LABEL], invalidRows: 'skip' }, log });
    assert.equal(outcome.kind, 'vanished');
    assert.equal((await listPartitions(db)).length, 0);
  });

  test('a committed registration sends NOTIFY with its source and the partition id', async () => {
    const { db, url } = await createTestDatabase();
    const listener = new pg.Client({ connectionString: url });
    listener.on('error', () => {}); // the database is dropped when the file ends
    await listener.connect();
    const notified = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload!)));
    await listener.query(`LISTEN ${CHANNELS.partitions}`);
    const dir = tempDir('freshet-watch-');
    writePartition(dir, 'dt=2026-11-12', syntheticRows(10, 1));
    await startWatcher(db, dir);
    const [row] = await listPartitions(db);
    assert.deepEqual(JSON.parse(await notified), { source: path.join(dir, 'data'), id: row!.id });
    await listener.end();
  });
});

