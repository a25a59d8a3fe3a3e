// Categorical columns: vocabularies, readers, validation at registration, and real tfjs
// training with embeddings against a real PostgreSQL (issue #16).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createLogger } from '../src/core/log.ts';
import { buildVocabulary, fnv1a32, growVocabulary, readTable, VocabularyLookup, type CategoryEncoding } from '../src/data/index.ts';
import { getCheckpoint, getLineage, getRun, listRunCheckpoints, type Registry } from '../src/registry/index.ts';
import { constantModel, initBackend, inputLayout, lineageGateSet, modelFromCheckpoint, predict, predictCheckpoint, readCheckpoint, registeredPartitions, trainRun, type EvalSet, type TrainRunOptions } from '../src/trainer/index.ts';
import { growCheckpoint, growVocabularies } from '../src/trainer/checkpoints/vocabulary-growth.ts';
import { buildModel } from '../src/trainer/model/trainable-model.ts';
import { registerPartition } from '../src/watcher/index.ts';
import { createTestDatabase } from './support/database.ts';
import { tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const never = new AbortController().signal;
const rules = { minCount: 3, maxTokens: 100, oovBuckets: 2, embeddingDim: 0 };

describe('vocabularies', () => {
  test('keep values seen at least minCount times, most frequent first, ties in code-unit order, up to maxTokens', () => {
    const counts = new Map([['b', 5], ['a', 5], ['c', 9], ['rare', 2], ['d', 3]]);
    const v = buildVocabulary('zone', counts, rules);
    assert.deepEqual(v.tokens, ['c', 'a', 'b', 'd']);
    assert.equal(v.oovBuckets, 2);
    assert.equal(v.embeddingDim, 4, 'ceil(2 · 6^0.25)');
    assert.deepEqual(buildVocabulary('zone', counts, { ...rules, maxTokens: 2 }).tokens, ['c', 'a']);
  });

  test('ids: buckets first, then the values; a value outside goes to FNV-1a mod buckets', () => {
    assert.equal(fnv1a32('a'), 0xe40c292c, 'the published FNV-1a 32-bit test vector');
    assert.equal(fnv1a32(''), 0x811c9dc5);
    const lookup = new VocabularyLookup({ column: 'zone', tokens: ['c', 'a'], oovBuckets: 2, embeddingDim: 4 });
    assert.equal(lookup.id('c'), 2);
    assert.equal(lookup.id('a'), 3);
    assert.equal(lookup.id('never seen'), fnv1a32('never seen') % 2);
  });

  test('grow by appending: old ids stay, new frequent values follow, maxTokens still holds', () => {
    const v = buildVocabulary('zone', new Map([['a', 5], ['b', 4]]), rules);
    const grown = growVocabulary(v, new Map([['a', 1], ['z', 7], ['y', 7], ['x', 1]]), { minCount: 3, maxTokens: 3 });
    assert.deepEqual(grown.tokens, ['a', 'b', 'y']);
    assert.equal(growVocabulary(v, new Map([['x', 1]]), rules), v, 'unchanged when nothing became frequent');
  });
});

describe('reading categorical columns', () => {
  const dir = tempDir('freshet-cat-read-');
  const seen: string[] = [];
  const categories: CategoryEncoding = { columns: new Set([1]), encode: (_c, text) => (seen.push(text), seen.length) };
  const readAll = async (file: string, strict = false) => {
    const rows: number[][] = [];
    for await (const chunk of readTable(file, ['x', 'airport', 'y'], { strict, categories })) {
      for (let r = 0; r < chunk.rowCount; r++) rows.push(Array.from(chunk.values.subarray(r * 3, r * 3 + 3)));
    }
    return rows;
  };

  test('CSV, JSON Lines and Parquet give the encoder the value as text (integers as ids), missing as NaN', async () => {
    fs.writeFileSync(path.join(dir, 'a.csv'), 'x,airport,y\n1,SFO,2\n3,,4\n5,"O,HARE",6\n');
    seen.length = 0;
    const csv = await readAll(path.join(dir, 'a.csv'));
    assert.deepEqual(seen, ['SFO', 'O,HARE']);
    assert.deepEqual(csv.map((r) => r[1]), [1, Number.NaN, 2]);
    fs.writeFileSync(path.join(dir, 'a.jsonl'), '{"x":1,"airport":"SFO","y":2}\n{"x":1,"airport":17,"y":2}\n{"x":1,"airport":null,"y":2}\n');
    seen.length = 0;
    const jsonl = await readAll(path.join(dir, 'a.jsonl'));
    assert.deepEqual(seen, ['SFO', '17']);
    assert.ok(Number.isNaN(jsonl[2]![1]!));
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'x', data: [1, 2], type: 'DOUBLE' },
        { name: 'airport', data: ['LAX', 'JFK'], type: 'STRING' },
        { name: 'y', data: [3, 4], type: 'DOUBLE' },
      ],
    });
    fs.writeFileSync(path.join(dir, 'a.parquet'), new Uint8Array(buffer));
    seen.length = 0;
    const parquet = await readAll(path.join(dir, 'a.parquet'));
    assert.deepEqual(seen, ['LAX', 'JFK']);
    assert.deepEqual(parquet.map((r) => r[0]), [1, 2]);
  });

  test('strictly, a value that is not a category is rejected naming file, line and column', async () => {
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, '{"x":1,"airport":"SFO","y":2}\n{"x":1,"airport":{"code":"SFO"},"y":2}\n');
    await assert.rejects(readAll(file, true), (error: Error & { line?: number; column?: string }) => {
      assert.match(error.message, /bad\.jsonl.*line 2.*airport.*not a category value/s);
      assert.equal(error.line, 2);
      assert.equal(error.column, 'airport');
      return true;
    });
    assert.ok(Number.isNaN((await readAll(file, false))[1]![1]!), 'not strict: read as missing');
  });
});

/** Rows whose label depends on a zone: y = 2·x + offset(zone) + noise; 'rare' appears below minCount. */
function zoneRows(count: number, seed: number, zones = ['north', 'south', 'east', 'west']): string[] {
  const offsets: Record<string, number> = { north: 0, south: 10, east: -10, west: 5, rare: 0, pacific: 20 };
  let state = seed * 7919 + 1;
  const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = ['x,zone,y'];
  for (let i = 0; i < count; i++) {
    const zone = i === 7 ? 'rare' : zones[Math.floor(rand() * zones.length)]!;
    const x = rand() * 2 - 1;
    lines.push(`${x.toFixed(4)},${zone},${(2 * x + offsets[zone]! + (rand() - 0.5) * 0.2).toFixed(4)}`);
  }
  return lines;
}

/** Writes and registers (through the watcher's registration, which validates) one day of zone rows. */
async function addZoneDay(db: Registry, dir: string, day: number, rows: number, zones?: string[]): Promise<void> {
  const rel = `dt=2026-11-0${day}`;
  fs.mkdirSync(path.join(dir, 'data', rel), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', rel, 'part-0.csv'), `${zoneRows(rows, day, zones).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'data', rel, '_SUCCESS'), '');
  const outcome = await registerPartition({ db, root: path.join(dir, 'data'), relativePath: rel, arrivedAt: new Date(), rules: { numericColumns: ['x', 'y'], categoricalColumns: ['zone'], invalidRows: 'skip' }, log });
  assert.equal(outcome.kind, 'registered');
}

async function setup(days = 3, rows = 1200) {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-cat-');
  for (let d = 1; d <= days; d++) await addZoneDay(db, dir, d, rows);
  return { db, url, dir };
}

const env = {
  FRESHET_COLUMNS__FEATURES: JSON.stringify(['x']),
  FRESHET_COLUMNS__CATEGORICAL: JSON.stringify(['zone']),
  FRESHET_COLUMNS__LABEL: 'y',
  FRESHET_COLUMNS__VOCABULARY__MIN_COUNT: '3',
  FRESHET_COLUMNS__VOCABULARY__OOV_BUCKETS: '2',
  FRESHET_TRAINING__LEARNING_RATE: '0.01',
  FRESHET_TRAINING__STOP_POINT: '12',
};

function train(db: Registry, dir: string, url: string, extra: Record<string, string> = {}, more: Partial<TrainRunOptions> = {}) {
  return trainRun({ db, config: trainConfig(dir, url, { ...env, ...extra }), log, signal: never, ...more });
}

/** Rows of [x (standardised), zone id] for predict(). */
function rowsOf(x: number[], ids: number[]): EvalSet {
  return { x: Float32Array.from(x.flatMap((v, i) => [v, ids[i]!])), y: new Float32Array(x.length), rows: x.length, dim: 2, partitionIds: [] };
}

describe('training with a categorical column', () => {
  test('the vocabulary is built when the lineage starts, kept in every checkpoint, and the embedding learns each value', async () => {
    const { db, url, dir } = await setup();
    const result = await train(db, dir, url);
    assert.equal(result.status, 'succeeded');
    const run = await getRun(db, result.runId);
    const lineage = await getLineage(db, run.lineage_id);
    const stats = lineage.feature_stats as { features: string[]; mean: number[]; std: number[]; categorical: Array<{ column: string; tokens: string[]; oovBuckets: number }> };
    assert.deepEqual(stats.features, ['x']);
    assert.equal(stats.categorical.length, 1);
    assert.deepEqual([...stats.categorical[0]!.tokens].sort(), ['east', 'north', 'south', 'west'], "'rare' (below minCount) is out of vocabulary");
    const checkpoints = await listRunCheckpoints(db, result.runId);
    for (const c of checkpoints) {
      assert.deepEqual(readCheckpoint(path.join(dir, 'artifacts', c.uri), c.manifest_sha256).state.featureStats.categorical, stats.categorical);
    }
    assert.ok(result.valLoss! < 1, `val mse ${result.valLoss} (the zone offsets alone have variance ≈ 60)`);
    const model = await modelFromCheckpoint(db, trainConfig(dir, url, env), (await listRunCheckpoints(db, result.runId)).at(-1)!);
    const lookup = new VocabularyLookup({ ...stats.categorical[0]!, embeddingDim: 0 });
    const zero = (0 - stats.mean[0]!) / stats.std[0]!;
    const [north, south, east, unknown] = predict(model, rowsOf([zero, zero, zero, zero], ['north', 'south', 'east', 'mars'].map((z) => lookup.id(z))));
    assert.ok(Math.abs(south! - north! - 10) < 1.5, `south − north ≈ 10: ${south! - north!}`);
    assert.ok(Math.abs(east! - north! + 10) < 1.5, `east − north ≈ −10: ${east! - north!}`);
    assert.ok(Number.isFinite(unknown!), 'an unknown value is scored through its out-of-vocabulary bucket');
    assert.equal(model.inputs.length, 2, 'numeric input and one id input');
    model.dispose();
  });

  test('stopped mid-epoch and resumed: weights bit-identical to never stopping', async () => {
    const { db, url, dir } = await setup(2, 800);
    const reference = await train(db, dir, url, { FRESHET_LINEAGE: 'reference', FRESHET_TRAINING__STOP_POINT: '1' });
    const steps = (await getLineage(db, (await getRun(db, reference.runId)).lineage_id)).steps_per_epoch;
    const part1 = await train(db, dir, url, { FRESHET_LINEAGE: 'resumed', FRESHET_TRAINING__STOP_POINT: '1' }, { stopAfterSteps: steps + 3 });
    assert.equal(part1.status, 'interrupted');
    const part2 = await train(db, dir, url, { FRESHET_LINEAGE: 'resumed', FRESHET_TRAINING__STOP_POINT: '1' }, { resumeRunId: part1.runId });
    assert.equal(part2.status, 'succeeded');
    assert.deepEqual(Buffer.from(part2.weightBytes), Buffer.from(reference.weightBytes));
  });

  test('a user model module receives the vocabulary sizes, takes the numeric and id inputs, and trains its own embedding', async () => {
    const { db, url, dir } = await setup(2, 1000);
    const module = path.join(dir, 'model.mjs');
    fs.writeFileSync(
      module,
      `export function createModel(tf, { inputDim, numericDim, categorical }) {
        globalThis.freshetReceived = { inputDim, numericDim, categorical };
        const numeric = tf.input({ shape: [numericDim] });
        const ids = categorical.map(() => tf.input({ shape: [1] }));
        const embedded = ids.map((input, k) => tf.layers.flatten().apply(tf.layers.embedding({ inputDim: categorical[k].size, outputDim: 3, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: k + 1 }) }).apply(input)));
        const hidden = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }).apply(tf.layers.concatenate().apply([numeric, ...embedded]));
        return tf.model({ inputs: [numeric, ...ids], outputs: tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }).apply(hidden) });
      }\n`,
    );
    const result = await train(db, dir, url, { FRESHET_MODEL__MODULE: module });
    assert.equal(result.status, 'succeeded');
    const received = (globalThis as { freshetReceived?: { inputDim: number; numericDim: number; categorical: Array<{ column: string; size: number }> } }).freshetReceived!;
    assert.equal(received.inputDim, 2);
    assert.equal(received.numericDim, 1);
    assert.deepEqual(received.categorical.map((c) => [c.column, c.size]), [['zone', 2 + 4]]);
    assert.ok(result.valLoss! < 2, `the user model learns the zones too: val mse ${result.valLoss}`);
  });

  test('a partition whose categorical column holds an object is rejected naming file, line and column', async () => {
    const { db } = await createTestDatabase();
    const dir = tempDir('freshet-cat-bad-');
    const rel = 'dt=2026-11-09';
    fs.mkdirSync(path.join(dir, rel), { recursive: true });
    fs.writeFileSync(path.join(dir, rel, 'part-0.jsonl'), '{"x":1,"zone":"north","y":1}\n{"x":1,"zone":["north"],"y":1}\n');
    fs.writeFileSync(path.join(dir, rel, '_SUCCESS'), '');
    const outcome = await registerPartition({ db, root: dir, relativePath: rel, arrivedAt: new Date(), rules: { numericColumns: ['x', 'y'], categoricalColumns: ['zone'], invalidRows: 'skip' }, log });
    assert.equal(outcome.kind, 'rejected');
    assert.match((outcome as { partition: { error: string | null } }).partition.error ?? '', /part-0\.jsonl.*line 2.*zone.*not a category value/s);
  });
});


describe('vocabularies that grow', () => {
  const withNewZone = ['north', 'south', 'east', 'west', 'pacific'];

  test('a retrain adds a value that became frequent: old ids, rows and moments kept, the new row learned, the growth recorded', async () => {
    const { db, url, dir } = await setup(2, 1000);
    const first = await train(db, dir, url);
    await addZoneDay(db, dir, 3, 1000, withNewZone);
    const fresh = (await registeredPartitions(db, { dataDir: path.join(dir, 'data') })).filter((p) => p.path === 'dt=2026-11-03');
    const retrain = await train(db, dir, url, {}, { fromCheckpointId: first.resultCheckpointId!, partitions: fresh, virtualEpochs: 8 });
    const run = await getRun(db, retrain.runId);
    assert.deepEqual(run.vocabulary_growth, [{ column: 'zone', from: 4, to: 5, added: ['pacific'] }]);
    const before = readCheckpoint(path.join(dir, 'artifacts', (await getCheckpoint(db, first.resultCheckpointId!)).uri));
    const after = readCheckpoint(path.join(dir, 'artifacts', (await getCheckpoint(db, retrain.resultCheckpointId!)).uri));
    const [v0, v1] = [before.state.featureStats.categorical![0]!, after.state.featureStats.categorical![0]!];
    assert.deepEqual(v1.tokens, [...v0.tokens, 'pacific'], 'appended: every old value keeps its id');
    const table = (loaded: typeof before) => loaded.weights[loaded.weightNames.indexOf('embedding_0/embeddings')]!;
    assert.deepEqual(table(after).shape, [2 + 5, v0.embeddingDim]);
    const moments = after.optimizerWeights.filter((w) => /^embedding_0\/embeddings(_\d+)?\/[mv]$/.test(w.name));
    assert.equal(moments.length, 2);
    assert.ok(moments.every((m) => m.tensor.shape[0] === 7));
    const model = await modelFromCheckpoint(db, trainConfig(dir, url, env), await getCheckpoint(db, retrain.resultCheckpointId!));
    const lookup = new VocabularyLookup(v1);
    const zero = (0 - before.state.featureStats.mean[0]!) / before.state.featureStats.std[0]!;
    const [north, pacific] = predict(model, rowsOf([zero, zero], [lookup.id('north'), lookup.id('pacific')]));
    assert.ok(Math.abs(pacific! - north! - 20) < 3, `pacific − north ≈ 20: ${pacific! - north!}`);
    model.dispose();
  });

  test('grown from its base, a model predicts exactly as the base on every row at step 0 (a new value starts as its old bucket)', async () => {
    const { db, url, dir } = await setup(2, 600);
    const config = trainConfig(dir, url, { ...env, FRESHET_TRAINING__STOP_POINT: '2' });
    const first = await trainRun({ db, config, log, signal: never });
    await addZoneDay(db, dir, 3, 600, withNewZone);
    const checkpoint = await getCheckpoint(db, first.resultCheckpointId!);
    const base = readCheckpoint(path.join(dir, 'artifacts', checkpoint.uri));
    const counts = [new Map([['pacific', 50], ['north', 80]])];
    const { vocabularies } = growVocabularies(base.state.featureStats.categorical!, counts, { minCount: 3, maxTokens: 100 });
    const grown = growCheckpoint(base, base.state.featureStats.categorical!, vocabularies);
    const { model } = await buildModel(config, inputLayout(grown.state.featureStats));
    model.setWeights(grown.weights);
    const rows = await lineageGateSet(db, config, (await getRun(db, first.runId)).lineage_id, (await registeredPartitions(db, config)).filter((p) => p.path === 'dt=2026-11-03'));
    assert.ok(rows.categoryValues!.includes('pacific'));
    const asBase = await predictCheckpoint(db, config, checkpoint, rows);
    const asGrown = predict(model, rows, vocabularies);
    assert.deepEqual(Array.from(asGrown), Array.from(asBase));
    model.dispose();
  });

  test('a growing retrain stopped mid-epoch and resumed is bit-identical to one never stopped', async () => {
    const { db, url, dir } = await setup(2, 600);
    await addZoneDay(db, dir, 3, 600, withNewZone);
    const all = await registeredPartitions(db, { dataDir: path.join(dir, 'data') });
    const weights: Buffer[] = [];
    for (const lineage of ['reference', 'resumed']) {
      const extra = { FRESHET_LINEAGE: lineage, FRESHET_TRAINING__STOP_POINT: '1' };
      const first = await train(db, dir, url, extra, { partitions: all.slice(0, 2) });
      const more = { fromCheckpointId: first.resultCheckpointId!, partitions: all.slice(2), virtualEpochs: 3 };
      if (lineage === 'reference') {
        weights.push(Buffer.from((await train(db, dir, url, extra, more)).weightBytes));
        continue;
      }
      const stopped = await train(db, dir, url, extra, { ...more, stopAfterSteps: 5 });
      assert.equal(stopped.status, 'interrupted');
      const resumed = await train(db, dir, url, extra, { resumeRunId: stopped.runId });
      assert.equal(resumed.status, 'succeeded');
      assert.deepEqual((await getRun(db, resumed.runId)).vocabulary_growth, [{ column: 'zone', from: 4, to: 5, added: ['pacific'] }]);
      weights.push(Buffer.from(resumed.weightBytes));
    }
    assert.deepEqual(weights[1], weights[0]);
  });
});

test('the naive constant of a categorical lineage takes the same inputs as its models (numeric, then one id input per column)', async () => {
  await initBackend('wasm');
  const model = constantModel('regression', { numeric: 2, categorical: [{ column: 'zone', size: 6, embeddingDim: 3 }, { column: 'kind', size: 9, embeddingDim: 4 }] }, 7.5);
  assert.deepEqual(model.inputs.map((i) => i.shape), [[null, 2], [null, 1], [null, 1]]);
  const predictions = predict(model, { x: Float32Array.from([0.3, -1, 2, 5, 9, 0.1, 4, 8]), y: new Float32Array(2), rows: 2, dim: 4, partitionIds: [] });
  assert.deepEqual(Array.from(predictions), [7.5, 7.5]);
  model.dispose();
});
