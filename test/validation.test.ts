// A partition checked before it trains (issue #28, items 1–3), on real rows: the January–
// March 2001 flights of the vega-datasets package (never a later month). A first model is
// trained on the first week of January; its partitions give the lineage's schema. Then a
// day in kilometres, a day with 30% of dep_minute missing and a day where 40% of the origin
// airports were never seen are quarantined, each naming its column; an ordinary February
// day registers and is flagged as drift; an accepted partition trains; nothing is lost.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { FLIGHTS_HEADER, flightDays } from '../bench/flights-data.ts';
import { createLogger } from '../src/core/log.ts';
import { createMetrics, renderStatusPage, statusReport } from '../src/observability/index.ts';
import { getLineageSchema, listFeatureDrift, listPartitions, type Partition } from '../src/registry/index.ts';
import { RetrainScheduler, updateDrift } from '../src/scheduler/index.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';
import { sql } from 'kysely';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { runRetrainJob } from './support/retrain.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const FEATURES = ['dep_minute', 'weekday', 'distance', 'origin_lat', 'origin_lon', 'dest_lat', 'dest_lon'];
const columnEnv = {
  FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES),
  FRESHET_COLUMNS__CATEGORICAL: JSON.stringify(['origin', 'destination']),
  FRESHET_COLUMNS__LABEL: 'arr_delay',
  // Daily partitions hold one weekday each: its drift is shown, never alarmed on.
  FRESHET_DRIFT__IGNORE_COLUMNS: JSON.stringify(['weekday']),
  // A champion either way (the network, or the naive constant when it is not better): drift needs one.
  FRESHET_EVAL__FALLBACK: 'naive',
};

let days: Map<string, string[]>;
before(async () => {
  days = (await flightDays()).days;
});

/** Every 8th flight of a day (about 2,000): the test trains in seconds, the day's mix stays. */
function dayLines(day: string): string[] {
  const lines = days.get(day);
  assert.ok(lines, `no flights on ${day}`);
  return lines.filter((_, i) => i % 8 === 0);
}

function writeDay(dataDir: string, key: string, lines: readonly string[]): string {
  const dir = path.join(dataDir, `dt=${key}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'part-0.csv'), `${FLIGHTS_HEADER}\n${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
  return dir;
}

/** Rewrites one column of every line (`change` gets the value and the line's index). */
function withColumn(lines: readonly string[], column: string, change: (value: string, index: number) => string): string[] {
  const c = FLIGHTS_HEADER.split(',').indexOf(column);
  return lines.map((line, i) => {
    const cells = line.split(',');
    cells[c] = change(cells[c]!, i);
    return cells.join(',');
  });
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('on the 2001 flights: kilometres, 30% missing dep_minute and 40% unseen origins are quarantined naming the column; an ordinary later day drifts and trains; an accepted partition trains; nothing is lost', { timeout: 240_000 }, async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-validation-');
  const env = { ...columnEnv, FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2' };
  const config = trainConfig(dir, url, env);
  for (let d = 1; d <= 7; d++) writeDay(config.dataDir, `2001-01-0${d}`, dayLines(`2001-01-0${d}`));
  const watcher = new PartitionWatcher({ db, config, log });
  await watcher.scan();
  await runRetrainJob(db, config); // the first model: its partitions are the schema's

  // The statistics of the validation pass are in the registry, behind the documented view.
  const view = await sql<{ column_name: string; kind: string; missing: string; mean: number | null; stddev: number | null; sampled: string; distinct_values: string | null }>`
    SELECT column_name, kind, missing, mean, stddev, sampled, distinct_values FROM partition_column_stats WHERE path = 'dt=2001-01-01' ORDER BY column_name`.execute(db);
  assert.deepEqual(view.rows.map((r) => r.column_name), ['arr_delay', 'dep_minute', 'dest_lat', 'dest_lon', 'destination', 'distance', 'origin', 'origin_lat', 'origin_lon', 'weekday']);
  const distance = view.rows.find((r) => r.column_name === 'distance')!;
  const expectedMean = dayLines('2001-01-01').reduce((n, l) => n + Number(l.split(',')[2]), 0) / dayLines('2001-01-01').length;
  const standardError = distance.stddev! / Math.sqrt(Number(distance.sampled));
  assert.ok(Number(distance.sampled) >= 200 && Number(distance.sampled) <= 300, `about 256 lines sampled: ${distance.sampled}`);
  assert.ok(Math.abs(distance.mean! - expectedMean) < 4 * standardError, `the sample's mean ${distance.mean} is within 4 standard errors (${standardError}) of the day's ${expectedMean}`);
  assert.equal(Number(distance.missing), 0);
  assert.ok(Number(view.rows.find((r) => r.column_name === 'origin')!.distinct_values) > 50);

  // Three broken days and an ordinary February one.
  const broken = {
    km: writeDay(config.dataDir, '2001-01-20', withColumn(dayLines('2001-01-20'), 'distance', (v) => String(Math.round(Number(v) * 1.609)))),
    missing: writeDay(config.dataDir, '2001-01-21', withColumn(dayLines('2001-01-21'), 'dep_minute', (v, i) => (i % 10 < 3 ? '' : v))),
    unseen: writeDay(config.dataDir, '2001-01-22', withColumn(dayLines('2001-01-22'), 'origin', (v, i) => (i % 5 < 2 ? `Q${v}` : v))),
  };
  const hashes = Object.fromEntries(Object.entries(broken).map(([k, d]) => [k, sha(path.join(d, 'part-0.csv'))]));
  writeDay(config.dataDir, '2001-02-03', dayLines('2001-02-03'));
  const outcomes: string[] = [];
  watcher.on('outcome', (o) => o.kind !== 'unchanged' && outcomes.push(`${o.kind === 'vanished' ? o.path : o.partition.path}:${o.kind}`));
  await watcher.scan();
  assert.deepEqual(outcomes.sort(), ['dt=2001-01-20:quarantined', 'dt=2001-01-21:quarantined', 'dt=2001-01-22:quarantined', 'dt=2001-02-03:registered']);

  const schema = await getLineageSchema(db, config.lineage);
  assert.ok(schema, 'inferred from the first model at the first arrival after it');
  assert.equal(schema.inferredFrom.length, 7);
  const byPath = new Map((await listPartitions(db, { limit: 100 })).map((p) => [p.path, p] as [string, Partition]));
  const reason = (p: string) => byPath.get(p)!.error ?? '';
  assert.match(reason('dt=2001-01-20'), /default: distance: expected a standard deviation within ×\/÷ [\d.]+ of [\d.]+ \(another unit scales it\); observed [\d.]+, × 1\.[4-9]\d/);
  assert.doesNotMatch(reason('dt=2001-01-20'), /arr_delay|weekday/, 'only the column in other units');
  assert.match(reason('dt=2001-01-21'), /default: dep_minute: expected at most 5\.0% missing; observed 30\.\d% missing \(\d+ of \d+ rows\)/);
  assert.match(reason('dt=2001-01-22'), /default: origin: expected at most 10\.0% of values outside its domain of \d+; observed 4\d\.\d% new \(\d+ values never seen, e\.g\. "Q/);
  for (const p of ['dt=2001-01-20', 'dt=2001-01-21', 'dt=2001-01-22']) {
    assert.equal(byPath.get(p)!.status, 'quarantined');
    assert.ok(byPath.get(p)!.stats, `${p} keeps its statistics`);
  }
  assert.equal(byPath.get('dt=2001-02-03')!.status, 'registered');
  assert.equal(byPath.get('dt=2001-02-03')!.error, null);
  // Each quarantine is an outbox event (for webhooks) naming the column; the files are untouched.
  const quarantinedEvents = await db.selectFrom('outbox').select('payload').where('kind', '=', 'quarantined').orderBy('id').execute();
  assert.deepEqual(quarantinedEvents.map((e) => (e.payload.anomalies as Array<{ column: string }>).map((a) => a.column)).sort(), [['dep_minute'], ['distance'], ['origin']]);
  for (const [k, d] of Object.entries(broken)) assert.equal(sha(path.join(d, 'part-0.csv')), hashes[k], `${k}: the data file is as it was`);

  // Drift: the ordinary February day against the first week of January, seen by the
  // scheduler at the arrival; with retrain.onDrift the crossing queues a retrain.
  const onDrift = trainConfig(dir, url, { ...env, FRESHET_RETRAIN__ON_DRIFT: 'true', FRESHET_RETRAIN__SCHEDULE: '' });
  await new RetrainScheduler({ db, config: onDrift, log, processId: 'test' }).check('arrival');
  const queued = await db.selectFrom('jobs').select(['trigger', 'payload']).where('state', '=', 'queued').execute();
  assert.deepEqual(queued.map((j) => j.trigger), ['drift']);
  assert.match(String(queued[0]!.payload.reason), /^drift: arr_delay PSI 0\.\d+ in dt=2001-02-03 \(retrain\.onDrift\)$/);
  const stored = await listFeatureDrift(db, config.lineage);
  const delay = stored.find((d) => d.column_name === 'arr_delay')!;
  assert.ok(delay.value > config.drift.psiThreshold, `arr_delay PSI ${delay.value} above ${config.drift.psiThreshold}`);
  assert.equal(stored.find((d) => d.column_name === 'arr_delay')!.drifted, true);
  assert.equal(stored.find((d) => d.column_name === 'weekday')!.drifted, false);
  const driftEvents = await db.selectFrom('outbox').select('payload').where('kind', '=', 'drift').execute();
  assert.equal(driftEvents.length, 1);
  assert.equal((await updateDrift(db, config)).crossed.length, 0, 'a drift is announced once, when it crosses');
  assert.equal((await db.selectFrom('outbox').select('id').where('kind', '=', 'drift').execute()).length, 1);
  const metrics = createMetrics({
    drift: async () => (await listFeatureDrift(db)).map((d) => ({ lineage: d.lineage, column: d.column_name, value: d.value, threshold: d.threshold })),
    quality: async () => [{ lineage: config.lineage, quarantined: 3, newestMissing: [] }],
  });
  const scraped = await metrics.registry.metrics();
  assert.match(scraped, /freshet_feature_drift\{lineage="default",column="arr_delay"\} 0\.\d+/);
  assert.match(scraped, /freshet_feature_drift_threshold\{lineage="default",column="arr_delay"\} 0\.2/);
  assert.doesNotMatch(scraped, /freshet_feature_drift_threshold\{lineage="default",column="weekday"\}/);
  assert.match(scraped, /freshet_partitions_quarantined\{lineage="default"\} 3/);
  // The status page: the quarantined partitions with why, the drift table.
  const page = renderStatusPage(await statusReport(db, config));
  assert.match(page, /<table id="quarantined">[\s\S]*dt=2001-01-21[\s\S]*dep_minute: expected at most 5\.0% missing/);
  assert.match(page, /<table id="drift">[\s\S]*<td>arr_delay<\/td><td>PSI<\/td><td>[\d.]+<\/td><td>0\.20*<\/td><td>DRIFT<\/td><td>dt=2001-02-03<\/td>/);
  assert.match(page, /<td>weekday<\/td><td>PSI<\/td><td>[\d.]+<\/td><td>ignored<\/td><td>no<\/td>/);

  // The CLI: the list with statistics, an operator's decision with who and why.
  const cliEnv = cleanEnv(trainEnv(dir, url, columnEnv));
  const listed = await runFreshet(['partitions', '--stats', '--status', 'quarantined'], { env: cliEnv, cwd: dir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /dt=2001-01-20 .*quarantined/);
  assert.match(listed.stdout, /distance +numeric +0\.0% +\d+/);
  assert.match(listed.stdout, /origin +categorical +0\.0% .*distinct: .*; 4\d\.\d% new/, 'the share of origins outside the lineage\'s known values');
  const km = byPath.get('dt=2001-01-20')!;
  const wrongState = await runFreshet(['partitions', 'accept', byPath.get('dt=2001-02-03')!.id, '--reason', 'x'], { env: cliEnv, cwd: dir });
  assert.equal(wrongState.code, 2);
  assert.match(wrongState.stderr, /partition \d+ \(dt=2001-02-03\) is registered: only a quarantined partition can be accepted/);
  const accepted = await runFreshet(['partitions', 'accept', km.id, '--reason', 'kilometres are fine for this test', '--by', 'ana'], { env: cliEnv, cwd: dir });
  assert.equal(accepted.code, 0, accepted.stderr);
  const rejected = await runFreshet(['partitions', 'reject', byPath.get('dt=2001-01-21')!.id, '--reason', 'the feed lost dep_minute', '--by', 'ana'], { env: cliEnv, cwd: dir });
  assert.equal(rejected.code, 0, rejected.stderr);
  const after = new Map((await listPartitions(db, { limit: 100 })).map((p) => [p.path, p] as [string, Partition]));
  assert.deepEqual([after.get('dt=2001-01-20')!.status, after.get('dt=2001-01-20')!.decided_by, after.get('dt=2001-01-20')!.decision_reason], ['registered', 'ana', 'kilometres are fine for this test']);
  assert.deepEqual([after.get('dt=2001-01-21')!.status, after.get('dt=2001-01-21')!.error], ['rejected', 'rejected by ana: the feed lost dep_minute']);

  // The accepted partition trains; the quarantined one does not.
  const run = await runRetrainJob(db, config);
  const trained = (await db.selectFrom('run_partitions as rp').innerJoin('partitions as p', 'p.id', 'rp.partition_id').select(['p.path', 'rp.role']).where('rp.run_id', '=', run!.id).execute()).map((r) => r.path);
  assert.ok(trained.includes('dt=2001-01-20'), `the accepted partition is in the run: ${trained.join(', ')}`);
  assert.ok(trained.includes('dt=2001-02-03'));
  assert.ok(!trained.includes('dt=2001-01-21') && !trained.includes('dt=2001-01-22'), 'rejected and quarantined partitions are not');
  // The renamed airports fixed in place: the new version registers and supersedes the quarantined one.
  writeDay(config.dataDir, '2001-01-22', dayLines('2001-01-22'));
  await watcher.scan();
  const versions = (await listPartitions(db, { limit: 100 })).filter((p) => p.path === 'dt=2001-01-22').map((p) => [p.version, p.status]);
  assert.deepEqual(versions.sort(), [[1, 'superseded'], [2, 'registered']]);
  // Nothing lost: every version of every path is still in the registry.
  assert.equal((await listPartitions(db, { limit: 100 })).length, 12);
});

test('validation.mode warn registers the partition with its anomalies; schema edit refuses a broken schema naming the field and keeps the old one', { timeout: 240_000 }, async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-validation-warn-');
  const env = { ...columnEnv, FRESHET_RETRAIN__VIRTUAL_EPOCHS: '1', FRESHET_VALIDATION__MODE: 'warn' };
  const config = trainConfig(dir, url, env);
  for (let d = 1; d <= 7; d++) writeDay(config.dataDir, `2001-01-0${d}`, dayLines(`2001-01-0${d}`)); // a week: every weekday is in the schema
  const watcher = new PartitionWatcher({ db, config, log });
  await watcher.scan();
  await runRetrainJob(db, config);
  writeDay(config.dataDir, '2001-01-20', withColumn(dayLines('2001-01-20'), 'distance', (v) => String(Math.round(Number(v) * 1.609))));
  await watcher.scan();
  const km = (await listPartitions(db, { limit: 10 })).find((p) => p.path === 'dt=2001-01-20')!;
  assert.equal(km.status, 'registered');
  assert.deepEqual(km.anomalies?.map((a) => [a.lineage, a.column]), [['default', 'distance']]);

  const cliEnv = cleanEnv(trainEnv(dir, url, env));
  const shown = await runFreshet(['schema', 'show', '--json'], { env: cliEnv, cwd: dir });
  assert.equal(shown.code, 0, shown.stderr);
  const schema = JSON.parse(shown.stdout) as { columns: Record<string, { maxMissingShare: number }> };
  schema.columns.dep_minute!.maxMissingShare = 1.5;
  const file = path.join(dir, 'schema.json');
  fs.writeFileSync(file, JSON.stringify(schema));
  const refused = await runFreshet(['schema', 'edit', '--file', file], { env: cliEnv, cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /schema\.json: columns\.dep_minute\.maxMissingShare: expected a share from 0 to 1, got 1\.5; the schema is unchanged/);
  schema.columns.dep_minute!.maxMissingShare = 0.5;
  fs.writeFileSync(file, JSON.stringify(schema));
  const saved = await runFreshet(['schema', 'edit', '--file', file, '--by', 'ana'], { env: cliEnv, cwd: dir });
  assert.equal(saved.code, 0, saved.stderr);
  const stored = await getLineageSchema(db, config.lineage);
  assert.equal((stored!.schema.columns.dep_minute as { maxMissingShare: number }).maxMissingShare, 0.5);
  assert.equal(stored!.updatedBy, 'ana');
});
