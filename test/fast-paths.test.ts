// The trainer's fast paths compute the same bits as the plain tfjs calls they replace:
// predictions in one batch (model/predict-rows.ts) against tfjs-layers' predict in its
// default batches of 32, and a training step whose input is cut in JavaScript
// (forwardRows) against one cut by slice kernels (forward), through several Adam steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMlp, createAdam, initBackend, predictRows, tf } from '../src/trainer/index.ts';
import { modelInputs } from '../src/trainer/model/input-layout.ts';
import { reluMask } from '../src/trainer/wasm-relu-mask.ts';
import { columnSums } from '../src/trainer/wasm-column-sums.ts';

const layout = { numeric: 5, categorical: [{ column: 'zone', size: 40, embeddingDim: 6 }, { column: 'hour', size: 30, embeddingDim: 5 }] };
const width = layout.numeric + layout.categorical.length;

/** Rows of the input layout: numeric features, then ids as floats (as the trainer holds them). */
function batch(rows: number, seed: number): Float32Array {
  const numeric = tf.randomNormal([rows, layout.numeric], 0, 1, 'float32', seed + 1).dataSync(); // (a seed of 0 is no seed to tfjs)
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    out.set(numeric.subarray(r * layout.numeric, (r + 1) * layout.numeric), r * width);
    layout.categorical.forEach((c, k) => (out[r * width + layout.numeric + k] = (r * 7 + k * 13 + seed) % c.size));
  }
  return out;
}

const bytes = (values: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

test('predictRows: the same bits as model.predict in its default batches', async () => {
  await initBackend('wasm');
  const mlp = buildMlp({ task: 'regression', hidden: [32, 16], activation: 'relu', dropout: 0, l2: 0 }, layout, 5);
  const rows = 1000; // not a multiple of 32: tfjs-layers' last batch is short
  const x = tf.tensor2d(batch(rows, 3), [rows, width]);
  const plain = tf.tidy(() => (mlp.model.predict(modelInputs(mlp.model, x)) as tf.Tensor).dataSync() as Float32Array);
  const fast = predictRows(mlp.model, x);
  assert.equal(fast.length, rows);
  assert.ok(bytes(fast).equals(bytes(plain)), 'one batch of 1,000 rows gives the bits of 32-row batches');
  x.dispose();
  mlp.model.dispose();
});

test('forwardRows: training from the JavaScript batch ends on the same weights as from the tensor', async () => {
  await initBackend('wasm');
  const rows = 64;
  const train = (useRows: boolean) => {
    const mlp = buildMlp({ task: 'regression', hidden: [16, 8], activation: 'relu', dropout: 0.1, l2: 1e-4 }, layout, 9);
    const adam = createAdam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const x = batch(rows, step);
      const y = tf.tidy(() => tf.randomNormal([rows, 1], 0, 1, 'float32', 100 + step));
      const cost = adam.minimize(() => {
        const predictions = useRows ? mlp.forwardRows(x, rows, step) : mlp.forward(tf.tensor2d(x, [rows, width]), step);
        return tf.add(tf.losses.meanSquaredError(y, predictions), mlp.penalty()!) as tf.Scalar;
      }, true, mlp.variables)!;
      losses.push(cost.dataSync()[0]!);
      tf.dispose([cost, y]);
    }
    const weights = Buffer.concat(mlp.model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).slice().buffer)));
    mlp.model.dispose();
    adam.dispose();
    return { weights, losses };
  };
  const fromTensor = train(false);
  const fromRows = train(true);
  assert.deepEqual(fromRows.losses, fromTensor.losses);
  assert.ok(fromRows.weights.equals(fromTensor.weights), 'the same weights, bit for bit');
});

test('gather on WASM (embedding lookups): whole rows copied, ids of any shape, an id outside the table refused', async () => {
  await initBackend('wasm');
  const table = tf.randomNormal([50, 7], 0, 1, 'float32', 21);
  const values = table.dataSync();
  const ids = Int32Array.from({ length: 30 }, (_, i) => (i * 17 + 3) % 50);
  const expected = new Float32Array(ids.length * 7);
  ids.forEach((id, i) => expected.set(values.subarray(id * 7, id * 7 + 7), i * 7));
  for (const shape of [[30], [30, 1], [5, 6]]) {
    const gathered = tf.tidy(() => tf.gather(table, tf.tensor(ids, shape, 'int32')));
    assert.deepEqual(gathered.shape, [...shape, 7]);
    assert.ok(bytes(gathered.dataSync() as Float32Array).equals(bytes(expected)), `ids of shape [${shape}]`);
    gathered.dispose();
  }
  assert.throws(() => tf.tidy(() => tf.gather(table, tf.tensor1d([3, 50], 'int32'))), /GatherV2: the index value 50 is not in \[0, 49\]/);
  // Gathers the fast path does not take still work (tfjs's own kernel): along axis 1.
  const columns = tf.tidy(() => tf.gather(table, tf.tensor1d([6, 0], 'int32'), 1));
  assert.deepEqual(Array.from(columns.dataSync().slice(0, 2)), [values[6], values[0]]);
  tf.dispose([columns, table]);
});

test('slice and concat of 2-D float32 tensors on WASM: the same values as plain copies, other cases still work', async () => {
  await initBackend('wasm');
  const rows = 9;
  const a = Float32Array.from({ length: rows * 5 }, (_, i) => i * 0.5 - 3);
  const b = Float32Array.from({ length: rows * 2 }, (_, i) => 100 + i);
  const ta = tf.tensor2d(a, [rows, 5]);
  const tb = tf.tensor2d(b, [rows, 2]);
  const joined = tf.concat([ta, tb], 1);
  const expected: number[] = [];
  for (let r = 0; r < rows; r++) expected.push(...a.subarray(r * 5, r * 5 + 5), ...b.subarray(r * 2, r * 2 + 2));
  assert.deepEqual(Array.from(joined.dataSync()), expected);
  assert.deepEqual(Array.from(tf.concat([ta, tb], -1).dataSync()), expected, 'axis -1 is axis 1');
  const cut = tf.slice(joined, [2, 3], [4, 3]);
  const cutExpected: number[] = [];
  for (let r = 2; r < 6; r++) cutExpected.push(...expected.slice(r * 7 + 3, r * 7 + 6));
  assert.deepEqual(cut.shape, [4, 3]);
  assert.deepEqual(Array.from(cut.dataSync()), cutExpected);
  assert.deepEqual(Array.from(tf.slice(joined, [7, 0], [-1, -1]).dataSync()), expected.slice(7 * 7), 'whole rows to the end');
  // Left to tfjs's kernels: rows (axis 0), 1-D and int32.
  assert.deepEqual(Array.from(tf.concat([ta, ta], 0).dataSync()), [...a, ...a]);
  assert.deepEqual(Array.from(tf.slice(tf.tensor1d([1, 2, 3, 4]), [1], [2]).dataSync()), [2, 3]);
  assert.deepEqual(Array.from(tf.slice(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [1, 0], [1, 2]).dataSync()), [3, 4]);
  const [left, right] = tf.split(joined, [5, 2], 1);
  assert.deepEqual([Array.from(left!.dataSync()), Array.from(right!.dataSync())], [Array.from(a), Array.from(b)]);
  assert.deepEqual(tf.split(joined, 7, -1).map((t) => t.dataSync()[7]), expected.slice(49, 56), 'equal parts, axis -1: row 7 of each');
  // And the gradient of a concat (a split of dy) reaches each part.
  const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 1), tf.range(0, 7).reshape([1, 7]))))([ta, tb]);
  assert.deepEqual(Array.from(grads[0]!.dataSync().slice(0, 5)), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(grads[1]!.dataSync().slice(0, 2)), [5, 6]);
});

test('the ReLU mask on WASM: the bits of mul(dy, step(y)), zeros, negative zeros and NaN included', async () => {
  await initBackend('wasm');
  const n = 1000;
  const y = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? Number.NaN : Math.sin(i) * 3));
  const dy = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? Number.POSITIVE_INFINITY : Math.cos(i * 1.7)));
  const [ty, tdy] = [tf.tensor2d(y, [40, 25]), tf.tensor2d(dy, [40, 25])];
  const plain = tf.mul(tdy, tf.step(ty)).dataSync() as Float32Array;
  const fused = reluMask(tdy, ty).dataSync() as Float32Array;
  assert.ok(bytes(fused).equals(bytes(plain)));
  assert.ok(plain.some((v) => Object.is(v, -0)) && plain.some((v) => Number.isNaN(v)), 'the data had negative zeros and NaNs to get right');
});

test('transpose of 2-D float32 and int32 on WASM: every value moved bit for bit, any shape; other transposes still work', async () => {
  await initBackend('wasm');
  for (const [rows, columns] of [[1, 1], [3, 5], [4, 4], [7, 9], [8, 1], [1, 8], [256, 45], [64, 64], [13, 4]] as const) {
    const values = Float32Array.from({ length: rows * columns }, (_, i) => (i % 11 === 3 ? Number.NaN : i % 7 === 0 ? -0 : Math.sin(i) * 1e3));
    // A NaN with a payload of its own, which a copy must keep.
    new Uint32Array(values.buffer)[0] = 0x7fa00001;
    const expected = new Float32Array(rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) expected[c * rows + r] = values[r * columns + c]!;
    new Uint32Array(expected.buffer)[0] = 0x7fa00001;
    const t = tf.transpose(tf.tensor2d(values, [rows, columns]));
    assert.deepEqual(t.shape, [columns, rows]);
    assert.ok(bytes(t.dataSync() as Float32Array).equals(bytes(expected)), `${rows} × ${columns}`);
    const ints = Int32Array.from({ length: rows * columns }, (_, i) => i * 3 - 7);
    const transposedInts = tf.transpose(tf.tensor2d(ints, [rows, columns], 'int32')).dataSync();
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) assert.equal(transposedInts[c * rows + r], ints[r * columns + c]);
  }
  assert.deepEqual(Array.from(tf.transpose(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), [2, 0, 1]).dataSync()), [1, 3, 5, 7, 2, 4, 6, 8], 'a 3-D transpose goes to tfjs');
  assert.deepEqual(Array.from(tf.transpose(tf.tensor2d([1, 2, 3, 4], [2, 2]), [0, 1]).dataSync()), [1, 2, 3, 4], 'the identity permutation');
});

test('column sums on WASM (a bias gradient): the bits of tf.sum(x, 0), any width, negative zeros included', async () => {
  await initBackend('wasm');
  for (const [rows, columns] of [[1, 1], [256, 64], [5, 7], [3, 4], [100, 1]] as const) {
    const values = Float32Array.from({ length: rows * columns }, (_, i) => (i % 9 === 0 ? -0 : Math.sin(i * 0.37) * 10 ** ((i % 5) - 2)));
    const x = tf.tensor2d(values, [rows, columns]);
    // tfjs's own sum over axis 0 (the kernel it runs: transpose, then a sum per row, from 0, in order).
    const expected = new Float32Array(columns);
    for (let c = 0; c < columns; c++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum = Math.fround(sum + values[r * columns + c]!);
      expected[c] = sum;
    }
    const plain = tf.sum(x, 0).dataSync() as Float32Array;
    assert.ok(bytes(plain).equals(bytes(expected)), `the order of tf.sum is the one written here (${rows} × ${columns})`);
    assert.ok(bytes(columnSums(x).dataSync() as Float32Array).equals(bytes(plain)), `${rows} × ${columns}`);
  }
});

test('tf.clone on WASM: a second reference to the same memory (no copy), still valid once the original is disposed', async () => {
  await initBackend('wasm');
  const original = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const buffers = () => (tf.memory() as { numDataBuffers: number }).numDataBuffers;
  const buffersBefore = buffers();
  const clone = tf.clone(original);
  assert.equal(buffers(), buffersBefore, 'no new buffer: tfjs-backend-wasm\'s own Identity copies');
  original.dispose();
  assert.deepEqual(Array.from(clone.dataSync()), [1, 2, 3, 4, 5, 6], 'the memory lives while a reference does');
  assert.deepEqual(clone.shape, [2, 3]);
  const cloneOfClone = tf.clone(clone);
  clone.dispose();
  assert.deepEqual(Array.from(cloneOfClone.dataSync()), [1, 2, 3, 4, 5, 6]);
  cloneOfClone.dispose();
  assert.equal(buffers(), buffersBefore - 1, 'freed with the last reference');
});
