// Predictions from the champion (issue #16): the export takes raw inputs (standardisation
// folded in, vocabularies shipped), `freshet predict` scores files, POST /v1/predict scores
// JSON rows, and all three agree; the endpoint swaps the champion atomically.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { fnv1a32 } from '../src/data/index.ts';
import { createMetrics, recordPrediction, startHttpServer } from '../src/observability/index.ts';
import { promoteVersion } from '../src/promotion/index.ts';
import { CHANNELS, findChampion, findModelVersion, setAlias, type Registry } from '../src/registry/index.ts';
import { ChampionPredictor, ModelServer, predictEndpoint, reconcileServing, type ModelSource } from '../src/serving/index.ts';
import { NotificationListener } from '../src/queue/index.ts';
import { waitFor } from './support/wait.ts';
import { tf } from '../src/trainer/index.ts';
import { registerPartition } from '../src/watcher/index.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { runRetrainJob } from './support/retrain.ts';
import { serveFolder } from './support/serve-folder.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const OFFSETS: Record<string, number> = { north: 0, south: 10, east: -10, west: 5, pacific: 20 };

/** CSV lines: id, distance (raw scale ≈ 1000), zone; y = distance/100 + offset(zone) + noise. */
function zoneLines(count: number, seed: number, zones: string[]): string[] {
  let state = seed * 7919 + 1;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['id,distance,zone,y'];
  for (let i = 0; i < count; i++) {
    const zone = zones[Math.floor(rand() * zones.length)]!;
    const distance = 500 + rand() * 1000;
    lines.push(`f${seed}-${i},${distance.toFixed(1)},${zone},${(distance / 100 + OFFSETS[zone]! + (rand() - 0.5) * 0.2).toFixed(4)}`);
  }
  return lines;
}

async function addDay(db: Registry, dir: string, day: number, zones: string[]): Promise<string> {
  const rel = `dt=2026-11-0${day}`;
  fs.mkdirSync(path.join(dir, 'data', rel), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', rel, 'part-0.csv'), `${zoneLines(900, day, zones).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'data', rel, '_SUCCESS'), '');
  const outcome = await registerPartition({ db, root: path.join(dir, 'data'), relativePath: rel, arrivedAt: new Date(), rules: { numericColumns: ['distance', 'y'], categoricalColumns: ['zone'], invalidRows: 'skip' }, log });
  assert.equal(outcome.kind, 'registered');
  return path.join(dir, 'data', rel);
}

const env = {
  FRESHET_COLUMNS__FEATURES: JSON.stringify(['distance']),
  FRESHET_COLUMNS__CATEGORICAL: JSON.stringify(['zone']),
  FRESHET_COLUMNS__LABEL: 'y',
  FRESHET_COLUMNS__VOCABULARY__MIN_COUNT: '5',
  FRESHET_TRAINING__LEARNING_RATE: '0.01',
  FRESHET_TRAINING__STOP_POINT: '12',
  FRESHET_RETRAIN__VIRTUAL_EPOCHS: '6',
};

async function twoVersions() {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-predict-');
  const old = ['north', 'south', 'east', 'west'];
  for (const day of [1, 2, 3]) await addDay(db, dir, day, old);
  const config = trainConfig(dir, url, { ...env, FRESHET_SERVING_DIR: path.join(dir, 'serving') });
  await runRetrainJob(db, config);
  // A new zone arrives: the retrain grows the vocabulary and beats the champion (which reads it as out-of-vocabulary).
  await addDay(db, dir, 4, [...old, 'pacific']);
  const newest = await addDay(db, dir, 5, [...old, 'pacific']);
  await runRetrainJob(db, config);
  const champion = await findChampion(db, config.lineage);
  assert.equal(champion?.version.version, 2, 'the grown model was promoted');
  return { db, url, dir, config, newest };
}

describe('predictions from the champion', () => {
  test('the export, `freshet predict` and POST /v1/predict agree to 1e-5 on raw rows; bad rows are named; the champion swaps atomically', async () => {
    const { db, url, dir, config, newest } = await twoVersions();
    const exported = path.join(config.servingDir, config.lineage, 'current');
    assert.ok(fs.existsSync(path.join(exported, 'vocabularies.json')));
    const metadata = JSON.parse(fs.readFileSync(path.join(exported, 'metadata.json'), 'utf8')) as { standardised: boolean; input: string };
    assert.equal(metadata.standardised, false);
    assert.match(metadata.input, /raw values/);

    // 1. Plain tfjs, raw distance, and the documented id lookup for the zone.
    const lines = fs.readFileSync(path.join(newest, 'part-0.csv'), 'utf8').trim().split('\n').slice(1, 201).map((l) => l.split(','));
    const vocabulary = (JSON.parse(fs.readFileSync(path.join(exported, 'vocabularies.json'), 'utf8')) as Array<{ tokens: string[]; oovBuckets: number }>)[0]!;
    const idOf = (value: string) => (vocabulary.tokens.includes(value) ? vocabulary.oovBuckets + vocabulary.tokens.indexOf(value) : fnv1a32(value) % vocabulary.oovBuckets);
    const served = await serveFolder(path.join(config.servingDir, config.lineage));
    let fromExport: Float32Array;
    try {
      const model = await tf.loadLayersModel(`${served.url}/current/model.json`);
      const outputs = model.predict([tf.tensor2d(lines.map((l) => [Number(l[1])])), tf.tensor2d(lines.map((l) => [idOf(l[2]!)]))]) as tf.Tensor;
      fromExport = outputs.dataSync() as Float32Array;
      model.dispose();
    } finally {
      served.close();
    }

    // 2. freshet predict on the partition folder, with ids, and a file with bad rows.
    const cliEnv = cleanEnv({ ...trainEnv(dir, url, env), FRESHET_SERVING_DIR: config.servingDir });
    const outFile = path.join(dir, 'predictions.csv');
    const batch = await runFreshet(['predict', '--input', newest, '--id', 'id', '--output', outFile], { env: cliEnv });
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stderr, /scored 900 rows \(0 rejected\) from 1 file with version 2/);
    const scored = fs.readFileSync(outFile, 'utf8').trim().split('\n');
    assert.equal(scored[0], 'id,prediction');
    scored.slice(1, 201).forEach((row, i) => {
      const [id, prediction] = row.split(',');
      assert.equal(id, lines[i]![0]);
      assert.ok(Math.abs(Number(prediction) - fromExport[i]!) <= 1e-5 * Math.max(1, Math.abs(fromExport[i]!)), `row ${i}: ${prediction} vs ${fromExport[i]}`);
    });
    const bad = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(bad, '{"distance": 800, "zone": "north"}\n{"distance": "far", "zone": "north"}\n{"distance": 900}\n{"distance": 700, "zone": "mars"}\n');
    const partial = await runFreshet(['predict', '--input', bad, '--format', 'jsonl', '--model-version', '1'], { env: cliEnv });
    assert.equal(partial.code, 1, `some rows were rejected: ${partial.stderr}`);
    assert.match(partial.stderr, /bad\.jsonl, line 2, column distance: missing or not a number/);
    assert.match(partial.stderr, /bad\.jsonl, line 3, column zone: missing or not a category value/);
    assert.match(partial.stderr, /scored 2 rows \(2 rejected\).*version 1/);
    assert.match(partial.stderr, /values the model never saw in training \(scored through its out-of-vocabulary buckets\): zone 1/);
    assert.deepEqual(partial.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { line: number }).line), [1, 4], 'an unknown zone is scored through its bucket');
    // A line that cannot be read at all (a short CSV row, broken JSON) is reported and skipped; the rest is scored (issue #24, item 4).
    const shortRow = path.join(dir, 'short.csv');
    fs.writeFileSync(shortRow, 'distance,zone\n800,north\n900\n"700,south\n650,east\n');
    const short = await runFreshet(['predict', '--input', shortRow], { env: cliEnv });
    assert.equal(short.code, 1, short.stderr);
    assert.match(short.stderr, /short\.csv, line 3: expected 2 fields as in the header, found 1; row skipped/);
    assert.match(short.stderr, /short\.csv, line 4: unterminated quoted field/);
    assert.match(short.stderr, /scored 2 rows \(2 rejected\)/);
    assert.deepEqual(short.stdout.trim().split('\n').slice(1).map((l) => l.split(',')[0]), ['2', '5']);
    const brokenJson = path.join(dir, 'broken.jsonl');
    fs.writeFileSync(brokenJson, '{"distance": 800, "zone": "north"}\n{"distance": 9\n{"distance": 700, "zone": "south"}\n');
    const broken = await runFreshet(['predict', '--input', brokenJson, '--format', 'jsonl'], { env: cliEnv });
    assert.equal(broken.code, 1, broken.stderr);
    assert.match(broken.stderr, /broken\.jsonl, line 2: not valid JSON/);
    assert.match(broken.stderr, /scored 2 rows \(1 rejected\)/);

    // 3. POST /v1/predict.
    const champion = new ChampionPredictor(db, config, log);
    const metrics = createMetrics();
    const http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      metrics,
      readiness: [],
      log,
      postRoutes: { '/v1/predict': predictEndpoint(champion, (outcome) => recordPrediction(metrics, { lineage: 'default', ...outcome })) },
      onPostRefused: (_path, status) => recordPrediction(metrics, { lineage: 'default', status, version: null, rows: 0, seconds: 0, unseen: {} }),
      maxBodyBytes: 64 * 1024,
    });
    const post = async (body: unknown) => {
      const response = await fetch(`${http.url}/v1/predict`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { version?: number; predictions?: number[]; error?: string; unseen?: Record<string, number> } };
    };
    try {
      const ok = await post({ rows: lines.map((l) => ({ distance: Number(l[1]), zone: l[2] })) });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.version, 2);
      ok.body.predictions!.forEach((p, i) => assert.ok(Math.abs(p - fromExport[i]!) <= 1e-5 * Math.max(1, Math.abs(fromExport[i]!)), `row ${i}`));
      const badRow = await post({ rows: [{ distance: 700, zone: 'north' }, { distance: 'far', zone: 'north' }] });
      assert.equal(badRow.status, 400);
      // Rows are numbered as indices into "rows", and the error says so (issue #24, item 12).
      assert.match(badRow.body.error!, /rows\[1\] \(rows are numbered from 0\), field "distance": not a number: "far"/);
      assert.match((await post({ rows: [{ distance: 700, zone: { x: 1 } }] })).body.error!, /rows\[0\] \(rows are numbered from 0\), field "zone": not a category value/);
      assert.equal((await post('{"rows": [')).status, 400);
      assert.equal((await post({ rows: Array.from({ length: 3000 }, () => ({ distance: 700, zone: 'north' })) })).status, 413);
      assert.equal((await fetch(`${http.url}/v1/predict`)).status, 405);
      // A value the model never saw is scored through its bucket, and counted (item 12).
      const unseen = await post({ rows: [{ distance: 700, zone: 'mars' }, { distance: 800, zone: 'north' }, { distance: 900, zone: 'venus' }] });
      assert.equal(unseen.status, 200);
      assert.deepEqual(unseen.body.unseen, { zone: 2 });
      assert.deepEqual(ok.body.unseen, {}, 'every zone of the partition is in the vocabulary');
      // Prediction metrics by status and version (item 10).
      const exposition = await metrics.registry.metrics();
      assert.match(exposition, /freshet_predict_requests_total\{lineage="default",status="200",version="2"\} 2/);
      assert.match(exposition, /freshet_predict_requests_total\{lineage="default",status="400",version="none"\} 3/);
      assert.match(exposition, /freshet_predict_requests_total\{lineage="default",status="413",version="none"\} 1/);
      assert.match(exposition, /freshet_predict_requests_total\{lineage="default",status="405",version="none"\} 1/);
      assert.match(exposition, new RegExp(`freshet_predict_rows_total\\{lineage="default",version="2"\\} ${lines.length + 3}`));
      assert.match(exposition, /freshet_predict_unseen_values_total\{lineage="default",column="zone",version="2"\} 2/);
      assert.match(exposition, /freshet_predict_seconds_count\{lineage="default",version="2"\} 2/);

      // The champion changes while requests run: each answer is wholly one version's.
      const row = { distance: 1000, zone: 'pacific' };
      const v2 = (await post({ rows: [row] })).body.predictions![0]!;
      const requests = Array.from({ length: 40 }, () => post({ rows: [row] }));
      await promoteVersion(db, config.lineage, 1, 'test', 'swap under load');
      await reconcileServing(db, config, log);
      const answers = [...(await Promise.all(requests)), await post({ rows: [row] })];
      const v1 = answers.at(-1)!.body;
      assert.equal(v1.version, 1, 'after the promotion, version 1 answers');
      assert.notEqual(v1.predictions![0], v2);
      for (const answer of answers) assert.equal(answer.body.predictions![0], answer.body.version === 2 ? v2 : v1.predictions![0]);
    } finally {
      await http.close();
      champion.close();
    }

    // The daemon's model server (issue #26): the champion is cached and switched when a
    // decision is notified, not looked up per request; beyond maxLoadedModels the least
    // recently used model is released.
    const server = new ModelServer({ db, lineages: [config], log, maxLoadedModels: 1 });
    const listener = new NotificationListener({ url, channels: [CHANNELS.champions], log, maxBackoffSeconds: 1, connectTimeoutSeconds: 5 });
    listener.on('notification', (_channel, lineage) => server.championChanged(lineage));
    const connected = new Promise<void>((resolve) => listener.once('connected', () => resolve()));
    listener.start();
    await connected;
    try {
      const versionOf = (source: ModelSource) => source.with((p) => p?.version ?? null);
      assert.equal(await versionOf(server.championSource(config.lineage)), 1, 'the champion after the swap above');
      assert.equal(await versionOf(server.versionSource(config.lineage, 2)), 2);
      assert.equal(server.loadedModels, 1, 'version 1 was released to load version 2');
      await assert.rejects(versionOf(server.versionSource(config.lineage, 9)), /lineage default has no version 9/);
      // An alias moved behind the registry's back (no NOTIFY) is not seen: the champion is cached.
      const lineageRow = (await findChampion(db, config.lineage))!.lineage;
      const two = (await findModelVersion(db, lineageRow.id, 2))!;
      const one = (await findModelVersion(db, lineageRow.id, 1))!;
      await db.updateTable('aliases').set({ model_version_id: two.id }).where('lineage_id', '=', lineageRow.id).where('name', '=', 'champion').execute();
      assert.equal(await versionOf(server.championSource(config.lineage)), 1, 'still the cached champion');
      // A decision (setAlias notifies at commit) switches it.
      await setAlias(db, lineageRow.id, 'champion', one.id);
      await setAlias(db, lineageRow.id, 'champion', two.id);
      await waitFor('the notified champion', async () => (await versionOf(server.championSource(config.lineage))) === 2, 5000);
      assert.equal(server.loadedModels, 1);
    } finally {
      await listener.stop();
      server.close();
    }
  });
});
