// Crossed columns (columns.crosses): the value of a×b made from the raw columns wherever
// rows are read, its own vocabulary and embedding, and predictions from the champion that
// cross the columns the same way: the export read by plain tfjs with the documented
// lookup, `freshet predict` and POST /v1/predict agree. Real files, PostgreSQL and tfjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { fnv1a32, readCrossed, readTable, type CategoryEncoding } from '../src/data/index.ts';
import { createMetrics, startHttpServer } from '../src/observability/index.ts';
import { findChampion, getLineage, type Registry } from '../src/registry/index.ts';
import { ChampionPredictor, predictEndpoint } from '../src/serving/index.ts';
import { tf } from '../src/trainer/index.ts';
import { countCategoryValues } from '../src/trainer/stream/category-values.ts';
import { registerPartition } from '../src/watcher/index.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { runRetrainJob } from './support/retrain.ts';
import { serveFolder } from './support/serve-folder.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });

describe('crossed columns: configuration and reading', () => {
  test('a crossed column must join columns of columns.categorical, each once; errors name the entry', () => {
    const load = (crosses: unknown) => () => loadConfig({ env: { FRESHET_COLUMNS__CATEGORICAL: '["a","b"]', FRESHET_COLUMNS__CROSSES: JSON.stringify(crosses) }, cwd: tempDir('freshet-cross-config-') });
    assert.throws(load([['a', 'c']]), /columns\.crosses\.0.*"c" is not in columns\.categorical/s);
    assert.throws(load([['a']]), /columns\.crosses\.0.*at least two categorical columns/s);
    assert.throws(load([['a', 'a']]), /columns\.crosses\.0.*lists a column twice/s);
    assert.throws(load([['a', 'b'], ['a', 'b']]), /columns\.crosses\.1.*the same crossed column twice/s);
    assert.deepEqual(load([['a', 'b']])().columns.crosses, [['a', 'b']]);
  });

  test('the crossed value joins its columns\' text row by row, across chunks, and is missing with any of them', async () => {
    const dir = tempDir('freshet-cross-read-');
    const rows = Array.from({ length: 9000 }, (_, i) => `${i},${i % 7 === 0 ? '' : `a${i % 3}`},${i % 5},${i * 2}`);
    const file = path.join(dir, 'part-0.csv');
    fs.writeFileSync(file, `x,a,b,y\n${rows.join('\n')}\n`);
    // Logical layout: x, a, b, a×b, y. The encoding keeps every text it is given.
    const seen: string[] = [];
    const categories: CategoryEncoding = { columns: new Set([1, 2, 3]), encode: (_slot, text) => seen.push(text) - 1 };
    const physical = ['x', 'a', 'b', 'y'];
    let row = 0;
    for await (const chunk of readCrossed((encoding) => readTable(file, physical, { categories: encoding }), { physicalWidth: 4, insertAt: 3, crosses: [[1, 2]] }, categories)) {
      for (let r = 0; r < chunk.rowCount; r++, row++) {
        const v = chunk.values.subarray(r * 5, r * 5 + 5);
        assert.equal(v[0], row);
        assert.equal(v[4], row * 2, 'the label after the crossed slot');
        assert.equal(seen[v[2]!], String(row % 5));
        if (row % 7 === 0) {
          assert.ok(Number.isNaN(v[1]!) && Number.isNaN(v[3]!), `row ${row}: a missing source makes the crossed value missing`);
        } else {
          assert.equal(seen[v[1]!], `a${row % 3}`);
          assert.equal(seen[v[3]!], `a${row % 3}×${row % 5}`, `row ${row}`);
        }
      }
    }
    assert.equal(row, 9000);
  });

  test('a retrain counts the crossed values of its fresh rows, as it counts the categorical ones (what vocabulary growth adds)', async () => {
    const dir = tempDir('freshet-cross-count-');
    fs.writeFileSync(path.join(dir, 'part-0.jsonl'), ['{"x":1,"a":"p","b":"u","y":1}', '{"x":2,"a":"p","b":"u","y":2}', '{"x":3,"a":"q","b":7,"y":3}', '{"x":4,"a":"q","y":4}'].join('\n') + '\n');
    const partition = { id: 'p1', path: 'dt=2026-11-01', dir, files: ['part-0.jsonl'], rows: 4 };
    const columns = { features: ['x'], categorical: ['a', 'b'], crosses: [['a', 'b']], label: 'y', task: 'regression' as const };
    const counts = await countCategoryValues([partition], columns, { evalFraction: 0.0001, seed: 1, invalidRows: 'skip' });
    assert.deepEqual(counts.map((c) => Object.fromEntries(c)), [{ p: 2, q: 1 }, { u: 2, '7': 1 }, { 'p×u': 2, 'q×7': 1 }], 'the row without b is invalid and counts for none');
  });
});

// Neither a nor b alone says anything about y: only the combination does (+10 on the
// diagonal, −5 off it; every row and column of the table sums to 0).
const A = ['p', 'q', 'r'];
const B = ['u', 'v', 'w'];
const offset = (a: string, b: string): number => (A.indexOf(a) === B.indexOf(b) ? 10 : -5);

function lines(count: number, seed: number): string[] {
  let state = seed * 7919 + 1;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = ['id,x,a,b,y'];
  for (let i = 0; i < count; i++) {
    const a = A[Math.floor(rand() * 3)]!;
    const b = B[Math.floor(rand() * 3)]!;
    const x = rand() * 100;
    out.push(`r${seed}-${i},${x.toFixed(2)},${a},${b},${(x / 20 + offset(a, b) + (rand() - 0.5) * 0.2).toFixed(4)}`);
  }
  return out;
}

async function addDay(db: Registry, dir: string, day: number): Promise<string> {
  const rel = `dt=2026-11-0${day}`;
  fs.mkdirSync(path.join(dir, 'data', rel), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', rel, 'part-0.csv'), `${lines(900, day).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'data', rel, '_SUCCESS'), '');
  const outcome = await registerPartition({ db, root: path.join(dir, 'data'), relativePath: rel, arrivedAt: new Date(), rules: { numericColumns: ['x', 'y'], categoricalColumns: ['a', 'b'], invalidRows: 'skip' }, log });
  assert.equal(outcome.kind, 'registered');
  return path.join(dir, 'data', rel);
}

const env = {
  FRESHET_COLUMNS__FEATURES: JSON.stringify(['x']),
  FRESHET_COLUMNS__CATEGORICAL: JSON.stringify(['a', 'b']),
  FRESHET_COLUMNS__CROSSES: JSON.stringify([['a', 'b']]),
  FRESHET_COLUMNS__LABEL: 'y',
  FRESHET_COLUMNS__VOCABULARY__MIN_COUNT: '5',
  FRESHET_TRAINING__LEARNING_RATE: '0.01',
  FRESHET_TRAINING__STOP_POINT: '12',
};

describe('crossed columns: training and predictions', () => {
  test('a×b gets a vocabulary and an embedding, the model learns the interaction, and the export, `freshet predict` and POST /v1/predict cross the columns alike', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-cross-');
    for (const day of [1, 2]) await addDay(db, dir, day);
    const newest = await addDay(db, dir, 3);
    const config = trainConfig(dir, url, { ...env, FRESHET_SERVING_DIR: path.join(dir, 'serving') });
    await runRetrainJob(db, config);
    const champion = await findChampion(db, config.lineage);
    assert.equal(champion?.version.version, 1, 'the first model beats the naive baseline and serves');
    const stats = (await getLineage(db, champion!.version.lineage_id)).feature_stats as { categorical: Array<{ column: string; tokens: string[] }> };
    assert.deepEqual(stats.categorical.map((v) => v.column), ['a', 'b', 'a×b']);
    assert.deepEqual([...stats.categorical[2]!.tokens].sort(), A.flatMap((a) => B.map((b) => `${a}×${b}`)).sort());

    const exported = path.join(config.servingDir, config.lineage, 'current');
    const metadata = JSON.parse(fs.readFileSync(path.join(exported, 'metadata.json'), 'utf8')) as { crosses: string[][]; crossSeparator: string; input: string };
    assert.deepEqual(metadata.crosses, [['a', 'b']]);
    assert.equal(metadata.crossSeparator, '×');
    assert.match(metadata.input, /joined by ×/);

    // 1. Plain tfjs with the documented lookup: numeric, then a, b and a×b ids.
    const vocabularies = JSON.parse(fs.readFileSync(path.join(exported, 'vocabularies.json'), 'utf8')) as Array<{ tokens: string[]; oovBuckets: number }>;
    const idOf = (k: number, value: string) => {
      const v = vocabularies[k]!;
      return v.tokens.includes(value) ? v.oovBuckets + v.tokens.indexOf(value) : fnv1a32(value) % v.oovBuckets;
    };
    const rows = fs.readFileSync(path.join(newest, 'part-0.csv'), 'utf8').trim().split('\n').slice(1, 201).map((l) => l.split(','));
    const served = await serveFolder(path.join(config.servingDir, config.lineage));
    const model = await tf.loadLayersModel(`${served.url}/current/model.json`).finally(() => served.close());
    const column = (values: number[]) => tf.tensor2d(values, [values.length, 1]);
    const fromExport = (model.predict([column(rows.map((r) => Number(r[1]))), column(rows.map((r) => idOf(0, r[2]!))), column(rows.map((r) => idOf(1, r[3]!))), column(rows.map((r) => idOf(2, `${r[2]}×${r[3]}`)))]) as tf.Tensor).dataSync();
    const diagonal = (model.predict([column([50, 50]), column([idOf(0, 'p'), idOf(0, 'p')]), column([idOf(1, 'u'), idOf(1, 'v')]), column([idOf(2, 'p×u'), idOf(2, 'p×v')])]) as tf.Tensor).dataSync();
    assert.ok(Math.abs(diagonal[0]! - diagonal[1]! - 15) < 3, `p×u − p×v ≈ 15: ${diagonal[0]! - diagonal[1]!}`);
    model.dispose();

    // 2. freshet predict on the partition, from the raw columns.
    const cliEnv = cleanEnv({ ...trainEnv(dir, url, env), FRESHET_SERVING_DIR: config.servingDir });
    const out = path.join(dir, 'predictions.csv');
    const batch = await runFreshet(['predict', '--input', newest, '--id', 'id', '--output', out], { env: cliEnv });
    assert.equal(batch.code, 0, batch.stderr);
    const scored = fs.readFileSync(out, 'utf8').trim().split('\n').slice(1, 201);
    scored.forEach((line, i) => assert.ok(Math.abs(Number(line.split(',')[1]) - fromExport[i]!) <= 1e-5 * Math.max(1, Math.abs(fromExport[i]!)), `row ${i}: ${line} vs ${fromExport[i]}`));

    // 3. POST /v1/predict with the raw columns.
    const champions = new ChampionPredictor(db, config, log);
    const http = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: createMetrics(), readiness: [], log, postRoutes: { '/v1/predict': predictEndpoint(champions) }, maxBodyBytes: 1 << 20 });
    try {
      const response = await fetch(`${http.url}/v1/predict`, { method: 'POST', body: JSON.stringify({ rows: rows.map((r) => ({ x: Number(r[1]), a: r[2], b: r[3] })) }) });
      const body = (await response.json()) as { predictions: number[] };
      assert.equal(response.status, 200);
      body.predictions.forEach((p, i) => assert.ok(Math.abs(p - fromExport[i]!) <= 1e-5 * Math.max(1, Math.abs(fromExport[i]!)), `row ${i}`));
      const missing = await fetch(`${http.url}/v1/predict`, { method: 'POST', body: JSON.stringify({ rows: [{ x: 1, a: 'p' }] }) });
      assert.equal(missing.status, 400);
      assert.match(((await missing.json()) as { error: string }).error, /rows\[0\] \(rows are numbered from 0\), field "b": missing/);
    } finally {
      await http.close();
      champions.close();
    }
  });
});
