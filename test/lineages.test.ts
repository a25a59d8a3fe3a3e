// Many lineages in one daemon (issue #26): one configuration with three lineages (different
// columns, one categorical) on three data folders, partitions arriving interleaved, one
// daemon process. Each lineage ends with a champion trained only on its own folder's
// partitions (asked in SQL), an export whose metadata names it, and endpoints that answer
// from its own model (checked against plain tf.loadLayersModel). Bad configurations and
// requests are refused naming what is wrong.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../src/core/config.ts';
import { lineageConfig, lineageConfigs } from '../src/core/lineage-configs.ts';
import { fnv1a32 } from '../src/data/index.ts';
import { countJobsByState } from '../src/queue/index.ts';
import { tf } from '../src/trainer/index.ts';
import { cleanEnv, runFreshet, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { serveFolder } from './support/serve-folder.ts';
import { waitFor } from './support/wait.ts';

const CONFIG = `
artifactsDir: artifacts
servingDir: serving
training: {backend: wasm, batchSize: 64, numCheckpoints: 4, stopPoint: 1, minSteps: 0, extraEpochs: 0, logEvery: 5, shuffleBuffer: 500, earlyCheckpoints: {firstStep: 0}}
retrain: {schedule: "", virtualEpochs: 2}
eval: {mustBeatNaive: false}
queue: {pollIntervalSeconds: 0.5, concurrency: 2}
http: {port: 0}
log: {level: info, format: json}
columns: {features: [x0, x1, x2, x3], label: y}
lineages:
  alpha: {dataDir: alpha}
  beta: {dataDir: beta, columns: {features: [x0, x1]}}
  gamma: {dataDir: gamma, columns: {features: [distance], categorical: [zone], label: y}, training: {batchSize: 32}}
`;

const OFFSETS: Record<string, number> = { north: 0, south: 10, east: -10 };

/** One day of a lineage's data as a producer writes it: the CSV, then the marker. */
function drop(dir: string, lineage: string, day: number, into = lineage): void {
  const folder = path.join(dir, into, `dt=2026-11-0${day}`);
  const seed = day * 10 + lineage.length;
  if (lineage === 'gamma') {
    let state = seed * 7919 + 1;
    const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const lines = ['distance,zone,y'];
    for (let i = 0; i < 400; i++) {
      const zone = Object.keys(OFFSETS)[Math.floor(rand() * 3)]!;
      const distance = 500 + rand() * 1000;
      lines.push(`${distance.toFixed(1)},${zone},${(distance / 100 + OFFSETS[zone]! + (rand() - 0.5) * 0.2).toFixed(4)}`);
    }
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'part-0.csv'), `${lines.join('\n')}\n`);
  } else if (lineage === 'beta') {
    writeCsv(path.join(folder, 'part-0.csv'), syntheticRows(400, seed).map((r) => [r[0]!, r[1]!, r[4]!]), ['x0', 'x1', 'y']);
  } else {
    writeCsv(path.join(folder, 'part-0.csv'), syntheticRows(400, seed));
  }
  fs.writeFileSync(path.join(folder, '_SUCCESS'), '');
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('many lineages, one daemon', () => {
  test('three lineages on three folders, interleaved arrivals: each champion trained on its own partitions, exported under its name, served from its own model', { timeout: 240_000 }, async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-lineages-');
    fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), CONFIG);
    const env = cleanEnv({ DATABASE_URL: url });
    const daemon = spawnFreshet(['daemon'], { env, cwd: dir });
    after(() => daemon.child.kill('SIGKILL'));
    const listening = await daemon.waitForLog('http listening');
    const base = String(listening.url);
    await daemon.waitForLog('freshet running');

    // Interleaved: a day of each lineage in turn, twice.
    for (const day of [1, 2]) for (const lineage of ['alpha', 'beta', 'gamma']) drop(dir, lineage, day);
    const champions = await waitFor(
      'a champion for each lineage, and an idle queue',
      async () => {
        const rows = await sql<{ name: string; version: number }>`
          SELECT l.name, mv.version FROM aliases a JOIN model_versions mv ON mv.id = a.model_version_id JOIN lineages l ON l.id = mv.lineage_id
          WHERE a.name = 'champion' ORDER BY l.name`.execute(db);
        const jobs = await countJobsByState(db);
        return rows.rows.length === 3 && jobs.queued + jobs.running === 0 && rows.rows;
      },
      200_000,
      250,
    );
    assert.deepEqual(champions.map((c) => c.name), ['alpha', 'beta', 'gamma']);

    // Every partition a champion was trained on is its own folder's (SQL over the registry).
    const trainedOn = await sql<{ name: string; source: string; partitions: string }>`
      SELECT l.name, p.source, count(*) AS partitions
      FROM aliases a JOIN model_versions mv ON mv.id = a.model_version_id JOIN lineages l ON l.id = mv.lineage_id
      JOIN model_version_partitions mvp ON mvp.model_version_id = mv.id JOIN partitions p ON p.id = mvp.partition_id
      WHERE a.name = 'champion' GROUP BY l.name, p.source ORDER BY l.name`.execute(db);
    assert.deepEqual(trainedOn.rows.map((r) => [r.name, r.source]), ['alpha', 'beta', 'gamma'].map((n) => [n, path.join(dir, n)]));
    const registered = await sql<{ source: string; n: string }>`SELECT source, count(*) AS n FROM partitions WHERE status = 'registered' GROUP BY source ORDER BY source`.execute(db);
    assert.deepEqual(registered.rows.map((r) => [r.source, Number(r.n)]), ['alpha', 'beta', 'gamma'].map((n) => [path.join(dir, n), 2]), 'each folder registered once, under its own source');

    // Each export names its lineage; each endpoint answers from that lineage's model.
    const rowsFor: Record<string, Array<Record<string, number | string>>> = {
      alpha: syntheticRows(5, 99).map((r) => ({ x0: r[0]!, x1: r[1]!, x2: r[2]!, x3: r[3]! })),
      beta: syntheticRows(5, 98).map((r) => ({ x0: r[0]!, x1: r[1]! })),
      gamma: [{ distance: 700, zone: 'north' }, { distance: 1200, zone: 'south' }, { distance: 900, zone: 'east' }, { distance: 1000, zone: 'nowhere' }],
    };
    for (const lineage of ['alpha', 'beta', 'gamma']) {
      const current = path.join(dir, 'serving', lineage, 'current');
      const metadata = JSON.parse(fs.readFileSync(path.join(current, 'metadata.json'), 'utf8')) as { lineage: string; version: number };
      assert.equal(metadata.lineage, lineage);
      const rows = rowsFor[lineage]!;
      const answer = await post(`${base}/v1/models/${lineage}/predict`, { rows });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.equal(answer.json.version, metadata.version);
      const served = await serveFolder(path.join(dir, 'serving', lineage));
      let expected: Float32Array;
      try {
        const model = await tf.loadLayersModel(`${served.url}/current/model.json`);
        let inputs: tf.Tensor | tf.Tensor[];
        if (lineage === 'gamma') {
          const vocabulary = (JSON.parse(fs.readFileSync(path.join(current, 'vocabularies.json'), 'utf8')) as Array<{ tokens: string[]; oovBuckets: number }>)[0]!;
          const idOf = (value: string) => (vocabulary.tokens.includes(value) ? vocabulary.oovBuckets + vocabulary.tokens.indexOf(value) : fnv1a32(value) % vocabulary.oovBuckets);
          inputs = [tf.tensor2d(rows.map((r) => [Number(r.distance)])), tf.tensor2d(rows.map((r) => [idOf(String(r.zone))]))];
        } else {
          inputs = tf.tensor2d(rows.map((r) => Object.values(r).map(Number)));
        }
        expected = (model.predict(inputs) as tf.Tensor).dataSync() as Float32Array;
        model.dispose();
      } finally {
        served.close();
      }
      (answer.json.predictions as number[]).forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)), `${lineage} row ${i}: ${p} vs ${expected[i]}`));
      const pinned = await post(`${base}/v1/models/${lineage}/versions/${metadata.version}/predict`, { rows });
      assert.deepEqual(pinned.json.predictions, answer.json.predictions, 'the version endpoint serves the same version');
    }

    // Descriptions, and requests that name nothing served.
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { models: Array<{ name: string; inputs: { numeric: string[]; categorical: string[] }; champion: { version: number } | null }> };
    assert.deepEqual(models.models.map((m) => [m.name, m.inputs.numeric, m.inputs.categorical]), [['alpha', ['x0', 'x1', 'x2', 'x3'], []], ['beta', ['x0', 'x1'], []], ['gamma', ['distance'], ['zone']]]);
    const gamma = (await (await fetch(`${base}/v1/models/gamma`)).json()) as { versions: Array<{ version: number; champion: boolean }> };
    assert.ok(gamma.versions.some((v) => v.champion));
    const unknown = await post(`${base}/v1/models/delta/predict`, { rows: rowsFor.alpha });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.json.error), /unknown lineage "delta": this daemon serves alpha, beta, gamma/);
    assert.equal((await fetch(`${base}/v1/models/delta`)).status, 404);
    const ambiguous = await post(`${base}/v1/predict`, { rows: rowsFor.alpha });
    assert.equal(ambiguous.status, 404);
    assert.match(String(ambiguous.json.error), /serves several lineages \(alpha, beta, gamma\): POST \/v1\/models\/<lineage>\/predict/);
    const noVersion = await post(`${base}/v1/models/alpha/versions/99/predict`, { rows: rowsFor.alpha });
    assert.equal(noVersion.status, 404);
    assert.match(String(noVersion.json.error), /lineage alpha has no version 99/);

    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });

  test('bad configurations and names are refused naming what is wrong', async () => {
    const dir = tempDir('freshet-lineages-bad-');
    const load = (text: string) => {
      fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), text);
      return loadConfig({ cwd: dir, env: {} });
    };
    assert.throws(() => load('columns: {features: [a], label: y}\nlineages: {a: {}, b: {columns: {features: [b]}}}'), /lineages a and b read the same data folder .*\/data with different columns/);
    assert.throws(() => load('lineages: {"bad name": {}}'), /lineages\.bad name: not a valid name: a lineage name is 1–63 letters/);
    assert.throws(() => load('lineages: {"../up": {}}'), /lineages\.\.\.\/up: not a valid name/);
    assert.throws(() => load('lineages: {a: {http: {port: 1}}}'), /lineages\.a\.http: not a key a lineage sets for itself/);
    assert.throws(() => load('lineages: {a: {trainng: {}}}'), /lineages\.a\.trainng: not a key a lineage sets for itself \(did you mean lineages\.a\.training\?\)/);
    assert.throws(() => load('lineages: {a: {training: {batchSzie: 3}}}'), /lineages\.a\.training\.batchSzie: unknown key \(did you mean lineages\.a\.training\.batchSize\?\)/);
    const config = load('columns: {features: [a], label: y}\nlineages: {one: {dataDir: d1}, two: {dataDir: d2, training: {batchSize: 8}}}');
    assert.deepEqual(lineageConfigs(config).map((c) => [c.lineage, c.dataDir, c.training.batchSize]), [['one', path.join(dir, 'd1'), 256], ['two', path.join(dir, 'd2'), 8]]);
    assert.throws(() => lineageConfig(config), /the configuration has 2 lineages \(one, two\): name one with --lineage/);
    assert.throws(() => lineageConfig(config, 'twoo'), /unknown lineage twoo \(did you mean two\?\); the configuration has one, two/);
    // A single-lineage file is unchanged: one lineage, named by `lineage`.
    assert.deepEqual(lineageConfigs(load('lineage: taxi')).map((c) => c.lineage), ['taxi']);

    // The CLI names an unknown lineage, and the daemon an unknown queue.lineages entry.
    load('columns: {features: [a], label: y}\nlineages: {one: {dataDir: d1}, two: {dataDir: d2}}');
    const database = await createTestDatabase();
    const status = await runFreshet(['status', '--lineage', 'three'], { env: cleanEnv({ DATABASE_URL: database.url }), cwd: dir });
    assert.equal(status.code, 2, status.stderr);
    assert.match(status.stderr, /unknown lineage three; the configuration has one, two/);
    const daemon = await runFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: database.url, FRESHET_QUEUE__LINEAGES: '["one","three"]', FRESHET_HTTP__PORT: '0' }), cwd: dir });
    assert.equal(daemon.code, 2, daemon.stderr);
    assert.match(daemon.stderr, /queue\.lineages: unknown lineage three; the configuration has one, two/);
  });

  test('freshet init --lineage adds a lineage with its own folder, keeping the one the file ran, comments and all', async () => {
    const dir = tempDir('freshet-lineages-init-');
    assert.equal((await runFreshet(['init', '.'], { cwd: dir })).code, 0);
    const file = path.join(dir, 'freshet.config.yaml');
    fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8').replace(/^lineage: default$/m, 'lineage: taxi')}\n# my own note\n`);
    const first = await runFreshet(['init', '--lineage', 'flights', '.'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const text = fs.readFileSync(path.join(dir, 'freshet.config.yaml'), 'utf8');
    assert.match(text, /# my own note/);
    assert.match(text, /^lineages:\n {2}taxi: \{\}\n {2}flights:\n {4}dataDir: data\/flights$/m);
    assert.ok(fs.existsSync(path.join(dir, 'data', 'flights', 'README.txt')));
    assert.deepEqual(lineageConfigs(loadConfig({ cwd: dir, env: {} })).map((c) => [c.lineage, path.relative(dir, c.dataDir)]), [['taxi', 'data'], ['flights', path.join('data', 'flights')]]);
    const again = await runFreshet(['init', '--lineage', 'flights', '.'], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already has lineage flights/);
    const bad = await runFreshet(['init', '--lineage', 'no/slash', '.'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--lineage "no\/slash": a lineage name is 1–63 letters/);
  });

  test('a lineage whose data arrives every second does not hold back another lineage\'s first model past one job', { timeout: 180_000 }, async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-lineages-fair-');
    // One worker: the two lineages compete for it.
    fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), `${CONFIG.replace('concurrency: 2', 'concurrency: 1').replace(/^lineages:[\s\S]*$/m, '')}lineages:\n  busy: {dataDir: busy}\n  quiet: {dataDir: quiet}\n`);
    const daemon = spawnFreshet(['daemon'], { env: cleanEnv({ DATABASE_URL: url }), cwd: dir });
    after(() => daemon.child.kill('SIGKILL'));
    await daemon.waitForLog('freshet running');
    let day = 0;
    const busy = setInterval(() => {
      day += 1;
      const folder = path.join(dir, 'busy', `dt=2026-11-${String(day).padStart(2, '0')}`);
      writeCsv(path.join(folder, 'part-0.csv'), syntheticRows(300, day));
      fs.writeFileSync(path.join(folder, '_SUCCESS'), '');
    }, 1000);
    after(() => clearInterval(busy));
    // The busy lineage's first job is running when the quiet lineage's data lands.
    await waitFor('a busy job running', async () => (await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE payload->>'lineage' = 'busy' AND state = 'running'`.execute(db)).rows[0]!.n === '1', 60_000, 100);
    drop(dir, 'alpha', 1, 'quiet'); // alpha's kind of data, into the quiet lineage's folder
    const quietJob = await waitFor(
      'the quiet lineage\'s job to finish',
      async () => (await sql<{ id: string; created_at: Date; locked_at: Date; state: string }>`SELECT id, created_at, locked_at, state FROM jobs WHERE payload->>'lineage' = 'quiet'`.execute(db)).rows.find((j) => j.state === 'succeeded'),
      120_000,
      250,
    );
    // The busy lineage keeps asking: its next retrain is queued once its running one ends.
    await waitFor('a second busy job', async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE payload->>'lineage' = 'busy'`.execute(db)).rows[0]!.n) >= 2, 120_000, 100);
    clearInterval(busy);
    // Between the quiet job's enqueue and its claim, no busy job was claimed: it waited for
    // the one busy job already running, no more (the oldest waiting job goes first).
    const claimedMeanwhile = await sql<{ n: string }>`
      SELECT count(*) AS n FROM jobs WHERE payload->>'lineage' = 'busy' AND locked_at > ${quietJob.created_at} AND locked_at < ${quietJob.locked_at}`.execute(db);
    assert.equal(Number(claimedMeanwhile.rows[0]!.n), 0, 'a busy job was claimed before the older quiet one');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
  });
});
