// Checkpoint files are written from views of the tensors' bytes (on WASM, the heap itself)
// instead of through tfjs's save and encodeWeights; they must stay byte for byte what tfjs
// writes, and a checkpoint must read back to the same weights and optimizer state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildMlp, createAdam, initBackend, tf } from '../src/trainer/index.ts';
import { readCheckpoint, writeCheckpoint, type AdamLike, type TrainingState } from '../src/trainer/checkpoints/checkpoint-io.ts';
import { readDirVerified, writeDirAtomically } from '../src/trainer/checkpoints/atomic-dir.ts';
import { tempDir } from './support/partitions.ts';

async function tfjsSave(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => ((captured = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  return captured!;
}

test('a checkpoint holds the bytes tfjs itself saves and encodes, and reads back to the same weights', async () => {
  await initBackend('wasm');
  const layout = { numeric: 5, categorical: [{ column: 'zone', size: 7, embeddingDim: 3 }] };
  const mlp = buildMlp({ task: 'regression', hidden: [32, 16], activation: 'relu', dropout: 0, l2: 0 }, layout, 9);
  const adam = createAdam(0.01);
  const x = tf.concat([tf.randomNormal([64, 5], 0, 1, 'float32', 1), tf.cast(tf.randomUniform([64, 1], 0, 7, 'int32', 2), 'float32')], 1) as tf.Tensor2D;
  const y = tf.randomNormal([64, 1], 0, 1, 'float32', 3) as tf.Tensor2D;
  for (let step = 0; step < 5; step++) adam.minimize(() => tf.losses.meanSquaredError(y, mlp.forward(x, step)) as tf.Scalar, false, mlp.variables);

  const dir = path.join(tempDir('freshet-checkpoint-io-'), 'ckpt');
  const state = { format: 1, globalStep: 5, adam: { accBeta1: 0.5, accBeta2: 0.9 } } as unknown as TrainingState;
  const written = await writeCheckpoint(dir, mlp.model, adam, state);

  const saved = await tfjsSave(mlp.model);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'weights.bin')), Buffer.from(tf.io.CompositeArrayBuffer.join(saved.weightData!)), 'weights.bin as tfjs saves it');
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: unknown; weightsManifest: [{ weights: unknown }] };
  assert.deepEqual(modelJson.modelTopology, saved.modelTopology);
  assert.deepEqual(modelJson.weightsManifest[0].weights, saved.weightSpecs);
  const encoded = await tf.io.encodeWeights(await (adam as unknown as AdamLike).getWeights());
  assert.deepEqual(fs.readFileSync(path.join(dir, 'optimizer.bin')), Buffer.from(tf.io.CompositeArrayBuffer.join(encoded.data)), 'optimizer.bin as tfjs encodes it');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'optimizer.json'), 'utf8')), { weightSpecs: encoded.specs });

  const loaded = readCheckpoint(dir, written.manifestSha256);
  assert.deepEqual(loaded.state, state);
  assert.deepEqual(loaded.weights.map((w) => Array.from(w.dataSync())), mlp.model.getWeights().map((w) => Array.from(w.dataSync())));
  assert.deepEqual(Object.keys(written.readFiles()).sort(), ['manifest.json', 'model.json', 'optimizer.bin', 'optimizer.json', 'state.json', 'weights.bin']);
});

test('a file given in pieces is written whole, and its hash is the hash of the whole', async () => {
  const dir = path.join(tempDir('freshet-atomic-pieces-'), 'out');
  const pieces = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(i % 7, i & 255)); // more pieces than one writev takes, some empty
  const written = await writeDirAtomically(dir, { 'a.bin': pieces, 'b.txt': 'text', 'c.bin': new Uint8Array([1, 2, 3]) });
  assert.deepEqual(fs.readFileSync(path.join(dir, 'a.bin')), Buffer.concat(pieces));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number }> };
  assert.equal(manifest.files['a.bin']!.bytes, Buffer.concat(pieces).byteLength);
  assert.deepEqual(written.readFiles()['a.bin'], Buffer.concat(pieces));
  assert.deepEqual(readDirVerified(dir, written.manifestSha256)['a.bin'], Buffer.concat(pieces), 'the manifest verifies');
});
