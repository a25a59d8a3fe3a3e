// The built-in MLP's gradients without tfjs's tape (model/mlp-gradients.ts) train to the
// same bits as optimizer.minimize: every weight and every batch loss, step after step,
// for mse and mae, with and without categorical columns, relu and elu; a model the chain
// does not cover (dropout, L2, logloss, tanh) keeps the tape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMlp, createAdam, initBackend, tf } from '../src/trainer/index.ts';
import { lossAtPredictions } from '../src/trainer/model/mlp-gradients.ts';
import { TrainStep, type LossName, type TrainingLoss } from '../src/trainer/model/train-step.ts';
import type { MlpSpec } from '../src/trainer/model/trainable-model.ts';
import type { InputLayout } from '../src/trainer/model/input-layout.ts';

const losses: Record<'mse' | 'mae', TrainingLoss> = {
  mse: { name: 'mse', fn: (y, p) => tf.losses.meanSquaredError(y, p) as tf.Scalar },
  mae: { name: 'mae', fn: (y, p) => tf.losses.absoluteDifference(y, p) as tf.Scalar },
};

/** Rows of the input layout (numeric features, then ids as floats) and labels, from a seed. */
function batch(layout: InputLayout, rows: number, seed: number): { x: Float32Array; y: Float32Array } {
  const width = layout.numeric + layout.categorical.length;
  const numeric = tf.tidy(() => tf.randomNormal([rows, Math.max(layout.numeric, 1)], 0, 1, 'float32', seed + 1).dataSync());
  const x = new Float32Array(rows * width);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < layout.numeric; j++) x[r * width + j] = numeric[r * Math.max(layout.numeric, 1) + j]!;
    layout.categorical.forEach((c, k) => (x[r * width + layout.numeric + k] = (r * 7 + k * 13 + seed) % c.size));
    y[r] = (layout.numeric > 0 ? 3 * numeric[r * layout.numeric]! : 0) + (((r * 7 + seed) % 20) % 5) - 2; // learnable from the first column or the first id
  }
  return { x, y };
}

/** Trains `steps` steps through TrainStep, with or without the tape-free path; the weights' bytes and each step's loss. */
function train(spec: MlpSpec, layout: InputLayout, loss: TrainingLoss, withoutTape: boolean, steps = 30) {
  const rows = 48;
  const mlp = buildMlp(spec, layout, 11);
  if (!withoutTape) mlp.lossAndGradients = undefined;
  const step = new TrainStep(mlp, createAdam(0.01), loss, { batchSize: rows });
  const batchLosses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y } = batch(layout, rows, s);
    batchLosses.push(step.run(x, y, s, true)!);
  }
  const weights = Buffer.concat(mlp.variables.map((v) => Buffer.from((v.dataSync() as Float32Array).slice().buffer)));
  const { sum } = step.epochLoss();
  step.dispose();
  mlp.model.dispose();
  return { weights, batchLosses, sum };
}

const spec = (over: Partial<MlpSpec> = {}): MlpSpec => ({ task: 'regression', hidden: [16, 8], activation: 'relu', dropout: 0, l2: 0, ...over });
const embedded: InputLayout = { numeric: 4, categorical: [{ column: 'zone', size: 20, embeddingDim: 5 }, { column: 'hour', size: 24, embeddingDim: 3 }] };

test('without the tape: the same weights and losses as optimizer.minimize, bit for bit', async () => {
  await initBackend('wasm');
  const cases: Array<[string, MlpSpec, InputLayout, LossName]> = [
    ['embeddings, relu, mae', spec(), embedded, 'mae'],
    ['embeddings, relu, mse', spec(), embedded, 'mse'],
    ['embeddings only (no numeric block), elu, mse', spec({ activation: 'elu' }), { numeric: 0, categorical: embedded.categorical }, 'mse'],
    ['one embedding only, relu, mae', spec(), { numeric: 0, categorical: [embedded.categorical[0]!] }, 'mae'],
    ['numeric only, relu, mae', spec({ hidden: [12] }), { numeric: 6, categorical: [] }, 'mae'],
  ];
  for (const [name, s, layout, lossName] of cases) {
    const loss = losses[lossName as 'mse' | 'mae'];
    assert.ok(buildMlp(s, layout, 1).lossAndGradients, `${name}: the chain covers this model`);
    const taped = train(s, layout, loss, false);
    const free = train(s, layout, loss, true);
    assert.ok(taped.batchLosses.at(-1)! < taped.batchLosses[0]!, `${name}: it learns (${taped.batchLosses[0]} → ${taped.batchLosses.at(-1)})`);
    assert.deepEqual(free.batchLosses, taped.batchLosses, `${name}: every batch loss`);
    assert.equal(free.sum, taped.sum, `${name}: the epoch's loss sum`);
    assert.ok(free.weights.equals(taped.weights), `${name}: every weight's bits after 30 steps`);
  }
});

test('the loss and its gradient at the predictions: tfjs\'s own, bit for bit, ties and NaN included', async () => {
  await initBackend('wasm');
  const rows = 7;
  const labels = Float32Array.from([1.5, -2, 0.1, 3, 3, Number.NaN, 1e-8]);
  const predictions = Float32Array.from([0.25, -2.5, 0.3, 3, 2.9999998, 1, 1e-8 + 1e-15]);
  for (const name of ['mse', 'mae'] as const) {
    const expected = tf.tidy(() => tf.grad((p: tf.Tensor) => losses[name].fn(tf.tensor2d(labels, [rows, 1]), p as tf.Tensor2D))(tf.tensor2d(predictions, [rows, 1])).dataSync() as Float32Array);
    const ours = lossAtPredictions(name, labels, predictions, rows);
    assert.deepEqual(Array.from(ours.gradient, (v) => (Number.isNaN(v) ? 'NaN' : v)), Array.from(expected, (v) => (Number.isNaN(v) ? 'NaN' : v)), name);
    // Without the NaN row, the loss itself (with it, both are NaN).
    const finite = (a: Float32Array) => a.subarray(0, 5);
    const tfLoss = tf.tidy(() => losses[name].fn(tf.tensor2d(finite(labels), [5, 1]), tf.tensor2d(finite(predictions), [5, 1])).dataSync()[0]!);
    assert.equal(lossAtPredictions(name, finite(labels), finite(predictions), 5).loss, tfLoss, `${name} loss`);
  }
  // A long batch: the sum's order matters for the last bits.
  const n = 1000;
  const y = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
  const p = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) * 90);
  for (const name of ['mse', 'mae'] as const) {
    const tfLoss = tf.tidy(() => losses[name].fn(tf.tensor2d(y, [n, 1]), tf.tensor2d(p, [n, 1])).dataSync()[0]!);
    assert.equal(lossAtPredictions(name, y, p, n).loss, tfLoss, `${name} loss over ${n} rows`);
  }
});

test('a model the chain does not cover keeps the tape (dropout, L2, tanh, logloss)', async () => {
  await initBackend('wasm');
  assert.equal(buildMlp(spec({ dropout: 0.1 }), embedded, 1).lossAndGradients, undefined, 'dropout');
  assert.equal(buildMlp(spec({ l2: 1e-4 }), embedded, 1).lossAndGradients, undefined, 'L2');
  assert.equal(buildMlp(spec({ activation: 'tanh' }), embedded, 1).lossAndGradients, undefined, 'tanh');
  assert.equal(buildMlp(spec(), embedded, 1, { gradient: 'builtin' }).lossAndGradients, undefined, "bench:train's built-in gradient");
  const binary = buildMlp(spec({ task: 'binary' }), embedded, 1);
  assert.equal(binary.lossAndGradients, undefined, 'binary: a sigmoid after the last layer');
  // logloss on a regression model the chain covers: the chain declines and the tape trains.
  const mlp = buildMlp(spec(), embedded, 1);
  const { x, y } = batch(embedded, 8, 1);
  assert.equal(mlp.lossAndGradients!(x, y.map((v) => (v > 0 ? 1 : 0)), 8, { name: 'logloss', fn: (l, p) => tf.losses.logLoss(l, p) as tf.Scalar }), undefined, 'declined before any tensor is made');
  const step = new TrainStep(mlp, createAdam(0.01), { name: 'logloss', fn: (l, p) => tf.losses.logLoss(l, tf.sigmoid(p)) as tf.Scalar }, { batchSize: 8 });
  assert.ok(Number.isFinite(step.run(x, y.map((v) => (v > 0 ? 1 : 0)), 0, true)!), 'the taped step still trains');
  step.dispose();
});
