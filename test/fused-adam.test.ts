// The fused Adam (one WASM kernel per variable) gives bit-identical weights to tfjs's own
// Adam, step after step, including after its state is saved and restored the way a
// checkpoint does it, with embeddings (rows without a gradient) and L2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMlp, createAdam, initBackend, tf } from '../src/trainer/index.ts';
import { restoreOptimizer, type LoadedCheckpoint } from '../src/trainer/checkpoints/checkpoint-io.ts';

function bytes(model: tf.LayersModel): Buffer {
  return Buffer.concat(model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).slice().buffer)));
}

test('fused Adam: the same bits as tfjs Adam over 300 steps, across a save and restore of its state', async () => {
  await initBackend('wasm');
  const layout = { numeric: 6, categorical: [{ column: 'zone', size: 9, embeddingDim: 3 }] };
  const x = tf.concat([tf.randomNormal([128, 6], 0, 1, 'float32', 11), tf.cast(tf.randomUniform([128, 1], 0, 9, 'int32', 12), 'float32')], 1) as tf.Tensor2D;
  const y = tf.randomNormal([128, 1], 0, 1, 'float32', 13) as tf.Tensor2D;
  const train = async (optimizer: () => tf.AdamOptimizer, restoreAt?: number) => {
    const mlp = buildMlp({ task: 'regression', hidden: [16, 8], activation: 'relu', dropout: 0.1, l2: 1e-4 }, layout, 3);
    let adam = optimizer();
    for (let step = 0; step < 300; step++) {
      if (step === restoreAt) {
        // What a checkpoint keeps and restoreOptimizer puts back.
        const saved = await adam.getWeights();
        const state = { adam: { accBeta1: (adam as unknown as { accBeta1: tf.Variable }).accBeta1.dataSync()[0]!, accBeta2: (adam as unknown as { accBeta2: tf.Variable }).accBeta2.dataSync()[0]! } };
        const copies = saved.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
        adam.dispose();
        adam = optimizer();
        await restoreOptimizer(adam, { state, optimizerWeights: copies } as unknown as LoadedCheckpoint);
      }
      adam.minimize(() => {
        const loss = tf.losses.meanSquaredError(y, mlp.forward(x, step)) as tf.Scalar;
        return tf.add(loss, mlp.penalty()!) as tf.Scalar;
      }, false, mlp.variables);
    }
    const out = bytes(mlp.model);
    mlp.model.dispose();
    adam.dispose();
    return out;
  };
  const tfjs = await train(() => tf.train.adam(0.01));
  const fused = await train(() => createAdam(0.01));
  assert.ok(fused.equals(tfjs), 'fused Adam matches tfjs Adam bit for bit');
  assert.ok((await train(() => createAdam(0.01), 137)).equals(tfjs), 'and after a restore of its state at step 137');
});
