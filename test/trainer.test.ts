// Real training with tfjs (WASM) on real files against a real PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { getLineage, getRun, listLossPoints, listRunCheckpoints, type Registry } from '../src/registry/index.ts';
import { readCheckpoint, trainRun, type TrainRunOptions } from '../src/trainer/index.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir, writeCsv, FEATURES, LABEL } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const never = new AbortController().signal;

async function setup(partitions = 3, rows = 1500) {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-train-');
  for (let d = 1; d <= partitions; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(rows, d));
  return { db, url, dir };
}

function train(db: Registry, dir: string, url: string, env: Record<string, string> = {}, more: Partial<TrainRunOptions> = {}) {
  return trainRun({ db, config: trainConfig(dir, url, env), log, signal: never, ...more });
}

describe('a first training run', () => {
  test('fixes steps_per_epoch on the lineage, checkpoints every virtual epoch, logs loss, and learns', async () => {
    const { db, url, dir } = await setup();
    const result = await train(db, dir, url, { FRESHET_TRAINING__RETENTION__KEEP_LAST: '10' });
    assert.equal(result.status, 'succeeded');
    const run = await getRun(db, result.runId);
    const lineage = await getLineage(db, run.lineage_id);
    // ≈ 4050 training rows (90 % of 4500) × stop point 1 / (batch 64 × 4 checkpoints)
    assert.equal(lineage.steps_per_epoch, Math.floor((Number(lineage.train_examples) * 1) / (64 * 4)));
    assert.ok(Math.abs(Number(lineage.train_examples) - 4050) < 150, `train examples ${lineage.train_examples}`);
    const checkpoints = await listRunCheckpoints(db, result.runId);
    assert.deepEqual(checkpoints.map((c) => c.virtual_epoch), [1, 2, 3, 4]);
    assert.deepEqual(checkpoints.map((c) => Number(c.global_step)), [1, 2, 3, 4].map((e) => e * lineage.steps_per_epoch));
    assert.ok(checkpoints.every((c) => c.train_loss !== null && c.val_loss !== null && c.metrics.mse !== undefined));
    assert.ok(checkpoints.at(-1)!.val_loss! < checkpoints[0]!.val_loss! / 2, 'validation loss falls');
    assert.equal(run.status, 'succeeded');
    assert.equal(run.result_checkpoint_id, checkpoints.at(-1)!.id);
    assert.ok(Math.abs(run.effective_stop_point! - (lineage.steps_per_epoch * 64 * 4) / Number(lineage.train_examples)) < 1e-9);
    const points = await listLossPoints(db, result.runId);
    assert.equal(points.length, Math.floor((4 * lineage.steps_per_epoch) / 5));
    assert.ok(points.every((p, i) => p.step === (i + 1) * 5 && Number.isFinite(p.loss)));
    // The stream's copies of the parsed rows (kept between its passes) went with it.
    assert.deepEqual(fs.readdirSync(path.join(dir, 'artifacts', 'stream-cache')), []);
  });

  test('the same partitions registered in another order train the same model (path order, not registration order)', async () => {
    const days = ['2026-11-01', '2026-11-02', '2026-11-03'];
    const trained = [];
    for (const order of [days, [...days].reverse()]) {
      const { db, url } = await createTestDatabase();
      const dir = tempDir('freshet-order-');
      for (const day of order) await addPartition(db, `${dir}/data`, day, syntheticRows(800, Number(day.slice(-1))));
      trained.push(await train(db, dir, url));
    }
    assert.deepEqual(Buffer.from(trained[1]!.weightBytes), Buffer.from(trained[0]!.weightBytes));
  });

  test('a checkpoint holds the full training state, verified by its manifest', async () => {
    const { db, url, dir } = await setup(2, 1000);
    const result = await train(db, dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '2' });
    const [first] = await listRunCheckpoints(db, result.runId);
    const loaded = readCheckpoint(path.join(dir, 'artifacts', first!.uri), first!.manifest_sha256);
    const s = loaded.state;
    assert.equal(s.globalStep, Number(first!.global_step));
    assert.equal(s.virtualEpoch, 1);
    assert.equal(s.stepInEpoch, 0);
    assert.deepEqual(s.featureStats.features, FEATURES);
    assert.ok(s.cursor.pass >= 0 && s.cursor.offset > 0);
    assert.equal(s.learningRate, 0.001);
    assert.ok(s.adam.accBeta1 > 0 && s.adam.accBeta1 < 1);
    assert.equal(s.earlyStopping.bestStep, s.globalStep);
    assert.equal(s.trainLoss, first!.train_loss);
    assert.equal(loaded.weights.length, 6, 'three dense layers: kernel and bias each');
    const iterations = loaded.optimizerWeights.find((w) => w.name === 'iter');
    assert.equal(iterations?.tensor.dataSync()[0], s.globalStep, 'Adam iterations saved');
    assert.equal(loaded.optimizerWeights.length, 1 + 2 * 6, 'iterations plus m and v for every variable');
  });
});

describe('virtual epochs as data grows', () => {
  test('a later run keeps the lineage’s steps per epoch; its effective stop point shrinks', async () => {
    const { db, url, dir } = await setup();
    const first = await train(db, dir, url);
    const lineageBefore = await getLineage(db, (await getRun(db, first.runId)).lineage_id);
    for (let d = 4; d <= 9; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
    const second = await train(db, dir, url, {}, { fromCheckpointId: first.resultCheckpointId!, virtualEpochs: 2, kind: 'retrain' });
    const lineageAfter = await getLineage(db, lineageBefore.id);
    assert.equal(lineageAfter.steps_per_epoch, lineageBefore.steps_per_epoch, 'not recomputed');
    const checkpoints = await listRunCheckpoints(db, second.runId);
    assert.deepEqual(checkpoints.map((c) => Number(c.global_step)), [5, 6].map((e) => e * lineageBefore.steps_per_epoch), 'global step continues from the base');
    const [run1, run2] = [await getRun(db, first.runId), await getRun(db, second.runId)];
    assert.equal(run2.base_checkpoint_id, first.resultCheckpointId);
    assert.ok(run2.effective_stop_point! < run1.effective_stop_point! * 0.45, `${run2.effective_stop_point} vs ${run1.effective_stop_point}`);
  });
});

describe('an averaged retrain (retrain.averageCheckpoints)', () => {
  const averaging = { FRESHET_RETRAIN__AVERAGE_CHECKPOINTS: '3' };
  const weightsOf = (dir: string, checkpoint: { uri: string; manifest_sha256: string }) => readCheckpoint(path.join(dir, 'artifacts', checkpoint.uri), checkpoint.manifest_sha256);

  test('its result is the mean of its last three checkpoints, one step after them; a first run and the default are not averaged', async () => {
    const { db, url, dir } = await setup();
    const first = await train(db, dir, url, averaging);
    const spe = (await getLineage(db, (await getRun(db, first.runId)).lineage_id)).steps_per_epoch;
    assert.ok((await listRunCheckpoints(db, first.runId)).every((c) => Number(c.global_step) % spe === 0), 'a first run: checkpoints at epoch ends only, nothing averaged');
    for (let d = 4; d <= 6; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
    // Four kept, so that the three averaged are still there to compare with (with three, the oldest goes once the average is written).
    const retrain = await train(db, dir, url, { ...averaging, FRESHET_TRAINING__RETENTION__KEEP_LAST: '4' }, { fromCheckpointId: first.resultCheckpointId!, virtualEpochs: 3, kind: 'retrain' });
    const checkpoints = await listRunCheckpoints(db, retrain.runId);
    assert.deepEqual(checkpoints.map((c) => Number(c.global_step)), [5 * spe, 6 * spe, 7 * spe, 7 * spe + 1]);
    const averaged = checkpoints.at(-1)!;
    assert.equal(retrain.resultCheckpointId, averaged.id);
    assert.equal((await getRun(db, retrain.runId)).result_checkpoint_id, averaged.id);
    assert.equal(averaged.virtual_epoch, 7, 'no epoch of its own');
    const loaded = weightsOf(dir, averaged);
    assert.deepEqual(loaded.state.averagedFrom, [5 * spe, 6 * spe, 7 * spe]);
    const sources = checkpoints.slice(0, 3).map((c) => weightsOf(dir, c));
    for (const [i, tensor] of loaded.weights.entries()) {
      const mean = tensor.dataSync();
      const parts = sources.map((source) => source.weights[i]!.dataSync());
      for (let k = 0; k < mean.length; k++) {
        const expected = (parts[0]![k]! + parts[1]![k]! + parts[2]![k]!) / 3;
        assert.ok(Math.abs(mean[k]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `weight ${i}[${k}]: ${mean[k]} vs the mean ${expected}`);
      }
    }
    assert.ok(sources.some((source, j) => j > 0 && source.weights[0]!.dataSync()[0] !== sources[0]!.weights[0]!.dataSync()[0]), 'the averaged checkpoints differ (else this test could not fail)');
    assert.equal(averaged.val_loss, retrain.valLoss, 'its validation loss is the average\'s, measured');
    assert.notEqual(averaged.val_loss, checkpoints[2]!.val_loss);
    // The epoch's curve point stays the trained one's.
    const curve = await db.selectFrom('epoch_losses').select(['virtual_epoch', 'global_step']).where('run_id', '=', retrain.runId).orderBy('virtual_epoch').execute();
    assert.deepEqual(curve.map((p) => Number(p.global_step)), [5 * spe, 6 * spe, 7 * spe]);
    // The default: no average, the retrain's own checkpoints only.
    const plain = await train(db, dir, url, {}, { fromCheckpointId: first.resultCheckpointId!, virtualEpochs: 3, kind: 'retrain' });
    assert.deepEqual((await listRunCheckpoints(db, plain.runId)).map((c) => Number(c.global_step)), [5 * spe, 6 * spe, 7 * spe]);
  });

  test('killed after its average was written, before the run was closed: resumed, it keeps that average and averages nothing again', async () => {
    const { db, url, dir } = await setup();
    const first = await train(db, dir, url);
    for (let d = 4; d <= 6; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
    const retrain = await train(db, dir, url, averaging, { fromCheckpointId: first.resultCheckpointId!, virtualEpochs: 3, kind: 'retrain' });
    const before = await listRunCheckpoints(db, retrain.runId);
    await db.updateTable('runs').set({ status: 'running', finished_at: null, result_checkpoint_id: null }).where('id', '=', retrain.runId).execute();
    const resumed = await train(db, dir, url, averaging, { resumeRunId: retrain.runId });
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual((await listRunCheckpoints(db, retrain.runId)).map((c) => c.id), before.map((c) => c.id), 'no checkpoint added');
    assert.equal(resumed.resultCheckpointId, before.at(-1)!.id);
    assert.deepEqual(Buffer.from(resumed.weightBytes), Buffer.from(retrain.weightBytes));
  });
});

describe('exact resume', () => {
  test('stopped mid-epoch and at an epoch end, then resumed: weights bit-identical to never stopping (with dropout)', async () => {
    const { db, url, dir } = await setup();
    const env = { FRESHET_MODEL__DROPOUT: '0.1' };
    const reference = await train(db, dir, url, { ...env, FRESHET_LINEAGE: 'reference' });
    const steps = (await getLineage(db, (await getRun(db, reference.runId)).lineage_id)).steps_per_epoch;
    const resumedEnv = { ...env, FRESHET_LINEAGE: 'resumed' };
    const part1 = await train(db, dir, url, resumedEnv, { stopAfterSteps: steps + 3 });
    assert.equal(part1.status, 'interrupted');
    assert.equal(part1.globalStep, steps + 3);
    assert.equal((await getRun(db, part1.runId)).status, 'running', 'an interrupted run stays resumable');
    const part2 = await train(db, dir, url, resumedEnv, { resumeRunId: part1.runId, stopAfterSteps: steps - 3 });
    assert.equal(part2.globalStep, 2 * steps, 'second stop lands on an epoch end');
    const part3 = await train(db, dir, url, resumedEnv, { resumeRunId: part1.runId });
    assert.equal(part3.status, 'succeeded');
    assert.equal(part3.runId, part1.runId);
    assert.equal(part3.globalStep, reference.globalStep);
    assert.deepEqual(Buffer.from(part3.weightBytes), Buffer.from(reference.weightBytes));
    assert.equal(part3.valLoss, reference.valLoss);
  });

  test('killed before its first checkpoint, a run resumes from the start, bit-identical to never stopping', async () => {
    const { db, url, dir } = await setup(2, 1000);
    const reference = await train(db, dir, url, { FRESHET_LINEAGE: 'reference' });
    const killed = await train(db, dir, url, { FRESHET_LINEAGE: 'killed' }, { stopAfterSteps: 0 });
    assert.equal(killed.status, 'interrupted');
    assert.deepEqual(await listRunCheckpoints(db, killed.runId), [], 'no checkpoint yet');
    const resumed = await train(db, dir, url, { FRESHET_LINEAGE: 'killed' }, { resumeRunId: killed.runId });
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual(Buffer.from(resumed.weightBytes), Buffer.from(reference.weightBytes));
  });

  test('a corrupted newest checkpoint is refused and the previous good one is used; the result is still exact', async () => {
    const { db, url, dir } = await setup();
    const reference = await train(db, dir, url, { FRESHET_LINEAGE: 'reference' });
    const steps = (await getLineage(db, (await getRun(db, reference.runId)).lineage_id)).steps_per_epoch;
    const part1 = await train(db, dir, url, { FRESHET_LINEAGE: 'damaged' }, { stopAfterSteps: 2 * steps + 5 });
    const newest = (await listRunCheckpoints(db, part1.runId)).at(-1)!;
    assert.equal(Number(newest.global_step), 2 * steps + 5);
    const weights = path.join(dir, 'artifacts', newest.uri, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[100] = bytes[100]! ^ 0xff;
    fs.writeFileSync(weights, bytes);
    const resumed = await train(db, dir, url, { FRESHET_LINEAGE: 'damaged' }, { resumeRunId: part1.runId });
    assert.equal(resumed.status, 'succeeded');
    assert.deepEqual(Buffer.from(resumed.weightBytes), Buffer.from(reference.weightBytes));
  });
});

describe('early stopping', () => {
  test('stops after `patience` checks without improvement and ends on the best checkpoint', async () => {
    const { db, url, dir } = await setup();
    // minDelta is huge: nothing after the first check counts as an improvement.
    const result = await train(db, dir, url, { FRESHET_TRAINING__EARLY_STOPPING__PATIENCE: '2', FRESHET_TRAINING__EARLY_STOPPING__MIN_DELTA: '1000000' });
    assert.equal(result.earlyStopped, true);
    assert.equal(result.virtualEpoch, 3, 'best at epoch 1, then two checks without improvement');
    const checkpoints = await listRunCheckpoints(db, result.runId);
    const run = await getRun(db, result.runId);
    assert.equal(run.result_checkpoint_id, checkpoints.find((c) => c.virtual_epoch === 1)!.id, 'restoreBestWeights: the run ends on epoch 1');
    assert.equal(result.valLoss, checkpoints.find((c) => c.virtual_epoch === 1)!.val_loss);
  });

  test('with checkpointEvery, checks run inside virtual epochs too', async () => {
    const { db, url, dir } = await setup();
    const result = await train(db, dir, url, { FRESHET_TRAINING__CHECKPOINT_EVERY: '5', FRESHET_TRAINING__NUM_CHECKPOINTS: '2' });
    const checkpoints = await listRunCheckpoints(db, result.runId);
    assert.ok(checkpoints.some((c) => Number(c.global_step) % 5 === 0 && Number(c.global_step) % (result.globalStep / 2) !== 0), 'mid-epoch checkpoints exist');
  });
});

describe('data quality', () => {
  test('rows with missing, NaN or infinite values are skipped and counted', async () => {
    const { db, url, dir } = await setup(2, 1000);
    const bad = path.join(dir, 'data', 'dt=2026-11-02', 'part-0.csv');
    const text = fs.readFileSync(bad, 'utf8').split('\n');
    text[5] = '1,2,,4,5';
    text[6] = '1,NaN,3,4,5';
    text[7] = '1,2,3,Infinity,5';
    text[8] = '1,2,3,4,abc';
    fs.writeFileSync(bad, text.join('\n'));
    const result = await train(db, dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '1' });
    assert.equal(result.status, 'succeeded');
    const run = await getRun(db, result.runId);
    assert.ok(Number(run.invalid_rows) >= 1, `invalid rows counted: ${run.invalid_rows}`);
  });

  test('invalidRows: reject fails the run with the file, line and column', async () => {
    const { db, url, dir } = await setup(1, 500);
    writeCsv(path.join(dir, 'data', 'dt=2026-11-01', 'part-0.csv'), [[1, 2, 3, 4, 5], [1, 2, Number.NaN, 4, 5]]);
    await assert.rejects(train(db, dir, url, { FRESHET_TRAINING__INVALID_ROWS: 'reject', FRESHET_TRAINING__EVAL_FRACTION: '0.01' }), (error: Error) => {
      assert.match(error.message, /dt=2026-11-01\/part-0\.csv, line 3, column x2: missing, NaN or infinite value/);
      return true;
    });
  });

  test('no registered partitions, or no columns configured, give clear errors', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-train-');
    await assert.rejects(train(db, dir, url), /no registered partitions to train on/);
    await assert.rejects(train(db, dir, url, { FRESHET_COLUMNS__FEATURES: '[]' }), /columns\.features and columns\.label must be set/);
  });
});

describe('models and tasks', () => {
  test('a user model module is loaded and trained; a missing or throwing module names the file', async () => {
    const { db, url, dir } = await setup(2, 800);
    const module = path.join(dir, 'model.mjs');
    fs.writeFileSync(
      module,
      `export function createModel(tf, { inputDim }) {
        const model = tf.sequential();
        model.add(tf.layers.dense({ units: 16, inputShape: [inputDim], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
        model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
        return model;
      }\n`,
    );
    const result = await train(db, dir, url, { FRESHET_MODEL__MODULE: module, FRESHET_TRAINING__NUM_CHECKPOINTS: '2' });
    assert.equal(result.status, 'succeeded');
    assert.equal(result.weightBytes.byteLength, (4 * 16 + 16 + 16 + 1) * 4);

    await assert.rejects(train(db, dir, url, { FRESHET_LINEAGE: 'missing', FRESHET_MODEL__MODULE: path.join(dir, 'nope.mjs') }), /model\.module .*nope\.mjs does not exist/);
    const throwing = path.join(dir, 'throwing.mjs');
    fs.writeFileSync(throwing, 'export function createModel() { throw new Error("no GPU here"); }\n');
    await assert.rejects(train(db, dir, url, { FRESHET_LINEAGE: 'throwing', FRESHET_MODEL__MODULE: throwing }), /throwing\.mjs: createModel threw: no GPU here/);
  });

  test('binary classification reports log loss and AUC', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-train-');
    const rows = syntheticRows(3000, 5).map((r) => [...r.slice(0, 4), r[4]! > 0 ? 1 : 0]);
    await addPartition(db, `${dir}/data`, '2026-11-01', rows);
    const result = await train(db, dir, url, { FRESHET_MODEL__TASK: 'binary', FRESHET_TRAINING__NUM_CHECKPOINTS: '3' });
    assert.ok(result.metrics.auc! > 0.9, `auc ${result.metrics.auc}`);
    assert.ok(result.metrics.logloss! < 0.5, `logloss ${result.metrics.logloss}`);
    assert.equal(result.valLoss, result.metrics.logloss);
  });

  test('JSON Lines and Parquet partitions train like CSV', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-train-');
    const rows = syntheticRows(1200, 9);
    const partitionDir = path.join(dir, 'data', 'dt=2026-11-01');
    fs.mkdirSync(partitionDir, { recursive: true });
    fs.writeFileSync(path.join(partitionDir, 'a.jsonl'), rows.slice(0, 600).map((r) => JSON.stringify(Object.fromEntries([...FEATURES, LABEL].map((k, i) => [k, r[i]])))).join('\n'));
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const columnData = [...FEATURES, LABEL].map((name, i) => ({ name, data: Float64Array.from(rows.slice(600), (r) => r[i]!), type: 'DOUBLE' as const }));
    fs.writeFileSync(path.join(partitionDir, 'b.parquet'), new Uint8Array(parquetWriteBuffer({ columnData })));
    await db
      .insertInto('partitions')
      .values({ source: path.join(dir, 'data'), path: 'dt=2026-11-01', sha256: 'c'.repeat(64), files: JSON.stringify([{ name: 'a.jsonl', bytes: 1 }, { name: 'b.parquet', bytes: 1 }]), row_count: 1200, status: 'registered', error: null, arrived_at: new Date(), detected_at: new Date() })
      .execute();
    const result = await train(db, dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '2' });
    const lineage = await getLineage(db, (await getRun(db, result.runId)).lineage_id);
    assert.ok(Math.abs(Number(lineage.train_examples) - 1080) < 80, `both files read: ${lineage.train_examples} training rows`);
  });
});

describe('retention', () => {
  test('keeps the last and best checkpoints and deletes the rest, rows and files together', async () => {
    const { db, url, dir } = await setup();
    const result = await train(db, dir, url, { FRESHET_TRAINING__RETENTION__KEEP_LAST: '1', FRESHET_TRAINING__RETENTION__KEEP_BEST: '1', FRESHET_TRAINING__NUM_CHECKPOINTS: '5' });
    const rows = await listRunCheckpoints(db, result.runId);
    assert.ok(rows.length <= 2, `${rows.length} checkpoints kept`);
    const runDir = path.join(dir, 'artifacts', path.dirname(rows[0]!.uri));
    assert.deepEqual(fs.readdirSync(runDir).sort(), rows.map((r) => path.basename(r.uri)).sort(), 'files match rows exactly');
  });

  test('a run killed after its last checkpoint row, before that retention, ends with the checkpoints of an uninterrupted run', async () => {
    const { db, url, dir } = await setup();
    const policy = { FRESHET_TRAINING__RETENTION__KEEP_LAST: '1', FRESHET_TRAINING__RETENTION__KEEP_BEST: '1', FRESHET_TRAINING__NUM_CHECKPOINTS: '5' };
    const reference = await train(db, dir, url, { ...policy, FRESHET_LINEAGE: 'reference' });
    // The state such a kill leaves: every checkpoint row written, retention not yet applied, the run still running.
    const killed = await train(db, dir, url, { ...policy, FRESHET_LINEAGE: 'killed', FRESHET_TRAINING__RETENTION__KEEP_LAST: '10' });
    assert.equal((await listRunCheckpoints(db, killed.runId)).length, 5);
    await db.updateTable('runs').set({ status: 'running', finished_at: null, result_checkpoint_id: null }).where('id', '=', killed.runId).execute();
    const resumed = await train(db, dir, url, { ...policy, FRESHET_LINEAGE: 'killed' }, { resumeRunId: killed.runId });
    assert.equal(resumed.status, 'succeeded');
    const steps = async (runId: string) => (await listRunCheckpoints(db, runId)).map((c) => Number(c.global_step));
    assert.deepEqual(await steps(killed.runId), await steps(reference.runId));
    assert.deepEqual(Buffer.from(resumed.weightBytes), Buffer.from(reference.weightBytes));
  });

  test('files left without a row by a crash are swept at the next start', async () => {
    const { db, url, dir } = await setup(2, 800);
    const first = await train(db, dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '1' });
    const rows = await listRunCheckpoints(db, first.runId);
    const runDir = path.join(dir, 'artifacts', path.dirname(rows[0]!.uri));
    fs.mkdirSync(path.join(runDir, 'step-999999999'));
    fs.mkdirSync(path.join(runDir, '.tmp-step-000000007-abc'));
    await train(db, dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '1' }, { fromCheckpointId: rows[0]!.id, virtualEpochs: 1 });
    assert.deepEqual(fs.readdirSync(runDir).sort(), rows.map((r) => path.basename(r.uri)).sort());
  });
});

describe('the postgres artifact store', () => {
  test('a run checkpointed by one machine resumes on another that shares only the database, bit-identical; retention deletes stored files', async () => {
    const { db, url, dir } = await setup();
    const reference = await train(db, dir, url, { FRESHET_LINEAGE: 'reference' });
    const steps = (await getLineage(db, (await getRun(db, reference.runId)).lineage_id)).steps_per_epoch;
    const onPostgres = { FRESHET_LINEAGE: 'shared', FRESHET_ARTIFACT_STORE: 'postgres', FRESHET_TRAINING__RETENTION__KEEP_LAST: '1', FRESHET_TRAINING__RETENTION__KEEP_BEST: '1' };
    const machineA = await train(db, dir, url, { ...onPostgres, FRESHET_ARTIFACTS_DIR: `${dir}/machine-a` }, { stopAfterSteps: 2 * steps + 1 });
    assert.equal(machineA.status, 'interrupted');
    const stored = await listRunCheckpoints(db, machineA.runId);
    assert.ok(stored.every((c) => c.store === 'postgres'));
    const chunkUris = await db.selectFrom('artifact_chunks').select('uri').distinct().execute();
    assert.deepEqual(chunkUris.map((r) => r.uri).sort(), stored.map((c) => c.uri).sort(), 'stored files exist exactly for the kept checkpoints');

    fs.rmSync(`${dir}/machine-a`, { recursive: true }); // machine B has never seen these files
    const machineB = await train(db, dir, url, { ...onPostgres, FRESHET_ARTIFACTS_DIR: `${dir}/machine-b` }, { resumeRunId: machineA.runId });
    assert.equal(machineB.status, 'succeeded');
    assert.equal(machineB.globalStep, reference.globalStep);
    assert.deepEqual(Buffer.from(machineB.weightBytes), Buffer.from(reference.weightBytes));
  });

  test('a damaged chunk is detected by the manifest hash, naming the checkpoint directory', async () => {
    const { db, url, dir } = await setup(1, 800);
    const env = { FRESHET_ARTIFACT_STORE: 'postgres', FRESHET_ARTIFACTS_DIR: `${dir}/a` };
    const result = await train(db, dir, url, env);
    const [checkpoint] = (await listRunCheckpoints(db, result.runId)).slice(-1);
    await db.updateTable('artifact_chunks').set({ data: Buffer.from('junk') }).where('uri', '=', checkpoint!.uri).where('file', '=', 'weights.bin').execute();
    fs.rmSync(`${dir}/a`, { recursive: true });
    const { loadCheckpoint } = await import('../src/trainer/index.ts');
    await assert.rejects(loadCheckpoint(db, { artifactsDir: `${dir}/b` }, checkpoint!), (error: Error) => error.name === 'CorruptDirError' && error.message.includes(checkpoint!.uri) && /weights\.bin/.test(error.message));
  });
});
