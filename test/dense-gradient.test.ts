// The training dense layer's own gradient (explicit transposes, so WASM stays on its fast
// matMul) equals tfjs's built-in gradient of the fused matMul, for every activation, to
// float rounding; and a whole MLP trains to the same loss either way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMlp, initBackend, tf } from '../src/trainer/index.ts';
import { denseForTraining, type DenseActivation } from '../src/trainer/model/dense-op.ts';

const close = (a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array, what: string): void => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * (1 + Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('dense gradient: the same as tfjs\'s fused matMul gradient for relu, elu and linear', async () => {
  await initBackend('wasm');
  for (const activation of ['relu', 'elu', 'linear'] as DenseActivation[]) {
    const x = tf.randomNormal([32, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([7, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomNormal([5], 0, 1, 'float32', 3) as tf.Tensor1D;
    const target = tf.randomNormal([32, 5], 0, 1, 'float32', 4);
    const loss = (f: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(tf.sub(f(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), target))) as tf.Scalar;
    const builtin = tf.grads(loss((xx, ww, bb) => tf.fused.matMul({ a: xx, b: ww, bias: bb, activation }) as tf.Tensor2D))([x, w, b]);
    const ours = tf.grads(loss(denseForTraining(activation, true)))([x, w, b]);
    for (const [i, name] of ['dx', 'dW', 'db'].entries()) close(ours[i]!.dataSync(), builtin[i]!.dataSync(), `${activation} ${name}`);
    const first = tf.grads(loss(denseForTraining(activation, false)))([x, w, b]);
    assert.ok(first[0]!.dataSync().every((v) => v === 0), 'the first layer skips dx');
    close(first[1]!.dataSync(), builtin[1]!.dataSync(), `${activation} dW without dx`);
    tf.dispose([x, w, b, target, ...builtin, ...ours, ...first]);
  }
});

test('an MLP trained with the fast gradient ends where the built-in gradient ends', async () => {
  await initBackend('wasm');
  const x = tf.randomNormal([256, 8], 0, 1, 'float32', 5) as tf.Tensor2D;
  const y = tf.sum(x, 1, true);
  const losses: number[] = [];
  for (const gradient of ['fast', 'builtin'] as const) {
    const mlp = buildMlp({ task: 'regression', hidden: [16, 16], activation: 'relu', dropout: 0, l2: 0 }, 8, 7, { gradient });
    const optimizer = tf.train.adam(0.01);
    let last = 0;
    for (let step = 0; step < 50; step++) last = (optimizer.minimize(() => tf.losses.meanSquaredError(y, mlp.forward(x, step)) as tf.Scalar, true, mlp.variables) as tf.Scalar).dataSync()[0]!;
    losses.push(last);
    mlp.model.dispose();
    optimizer.dispose();
  }
  assert.ok(losses[0]! < 1, `it learns: ${losses[0]}`);
  assert.ok(Math.abs(losses[0]! - losses[1]!) <= 1e-3 * losses[1]!, `fast ${losses[0]} vs built-in ${losses[1]}`);
});
