// Full-state checkpoints: everything needed to continue training as if it never stopped.
//
//   model.json + weights.bin      topology and weights (tfjs LayersModel format)
//   optimizer.json + optimizer.bin  Adam's iterations and moments (m, v)
//   state.json                    step, virtual epoch, learning rate, Adam's accumulated
//                                 beta powers, early-stopping state, feature statistics,
//                                 data cursor, seeds, losses
//   manifest.json                 sha256 of every file (see atomic-dir.ts)
//
// Adam's accBeta1/accBeta2 are saved explicitly: tfjs's setWeights() recomputes them as
// pow(beta, iterations + 1), which differs in the last bits from the running product the
// optimizer keeps while training, and resumed weights would then drift from an
// uninterrupted run.
import { tf } from '../backend.ts';
import type { EarlyStoppingState } from '../run/early-stopping.ts';
import type { DataCursor, FeatureStats } from '../stream/stream-spec.ts';
import { readDirVerified, writeDirAtomically, type WrittenDir } from './atomic-dir.ts';
import { layersModelJson, namedModelWeights, weightBytes } from './weight-bytes.ts';

/** tfjs-core's NamedTensor (not re-exported by @tensorflow/tfjs). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface TrainingState {
  format: 1;
  lineageId: string;
  runId: string;
  globalStep: number;
  virtualEpoch: number;
  /** Steps already taken inside the current virtual epoch (0 at an epoch end). */
  stepInEpoch: number;
  stepsPerEpoch: number;
  learningRate: number;
  adam: { beta1: number; beta2: number; epsilon: number; accBeta1: number; accBeta2: number };
  earlyStopping: EarlyStoppingState;
  featureStats: FeatureStats;
  cursor: DataCursor;
  /** All randomness (init, shuffle, split, dropout) derives from this seed plus pass and step. */
  seed: number;
  /** Running sum and count of the training loss inside the current virtual epoch. */
  epochLoss: { sum: number; count: number };
  /** Mean training loss over the last completed virtual epoch. */
  trainLoss: number | null;
  valLoss: number | null;
  metrics: Record<string, number>;
  invalidRows: number;
  /** Set on a retrain's averaged result checkpoint (retrain.averageCheckpoints): the steps of the checkpoints whose weights it is the mean of. */
  averagedFrom?: number[];
}

export interface AdamLike {
  getWeights(): Promise<NamedTensor[]>;
  setWeights(weights: NamedTensor[]): Promise<void>;
}

type AdamInternals = { accBeta1: tf.Variable; accBeta2: tf.Variable; beta1: number; beta2: number; epsilon: number; learningRate: number };

export function adamInternals(optimizer: tf.Optimizer): AdamInternals {
  const internals = optimizer as unknown as Partial<AdamInternals>;
  if (!internals.accBeta1 || !internals.accBeta2) throw new Error('checkpointing supports the tfjs Adam optimizer only');
  return internals as AdamInternals;
}

/** The files of a tfjs LayersModel in the format tf.loadLayersModel reads (model.json + weights.bin), as copies. */
export function layersModelFiles(model: tf.LayersModel, extra: Record<string, unknown> = {}): Record<string, Uint8Array | string> {
  const { specs, pieces } = weightBytes(namedModelWeights(model));
  return { 'model.json': layersModelJson(model, specs, extra), 'weights.bin': Buffer.concat(pieces) };
}

/**
 * Writes a checkpoint directory atomically: the model as tfjs saves it, the optimizer's
 * weights as tfjs encodes them (the same bytes; test/checkpoint-io.test.ts), the state.
 */
export async function writeCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: TrainingState): Promise<WrittenDir> {
  const optimizerWeights = await (optimizer as unknown as AdamLike).getWeights();
  // No await from here until writeDirAtomically has written the files: on the WASM
  // backend the weights' bytes are views of its heap, valid until the next tfjs operation.
  const weights = weightBytes(namedModelWeights(model));
  const moments = weightBytes(optimizerWeights);
  const written = writeDirAtomically(
    dir,
    {
      'model.json': layersModelJson(model, weights.specs),
      'weights.bin': weights.pieces,
      'optimizer.json': JSON.stringify({ weightSpecs: moments.specs }),
      'optimizer.bin': moments.pieces,
      'state.json': JSON.stringify(state, null, 2),
    },
    { replace: true },
  );
  // getWeights made the iteration count a new tensor; the moments are the optimizer's own.
  for (const { name, tensor } of optimizerWeights) if (name === 'iter') tensor.dispose();
  return written;
}

export interface LoadedCheckpoint {
  state: TrainingState;
  /** Model weights in model.weights order. */
  weights: tf.Tensor[];
  /** Their names in model.json (`<layer>/<weight>`, e.g. embedding_0/embeddings). */
  weightNames: string[];
  optimizerWeights: NamedTensor[];
}

/** A standalone ArrayBuffer with exactly the Buffer's bytes (Node Buffers may share a pool). */
function arrayBufferOf(buffer: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buffer.byteLength);
  new Uint8Array(out).set(buffer);
  return out;
}

/** Reads and verifies a checkpoint (throws CorruptDirError naming the bad file). */
export function readCheckpoint(dir: string, expectedManifestSha256?: string): LoadedCheckpoint {
  const files = readDirVerified(dir, expectedManifestSha256);
  const need = (name: string): Buffer => {
    const file = files[name];
    if (!file) throw new Error(`${dir}: checkpoint has no ${name}`);
    return file;
  };
  const state = JSON.parse(need('state.json').toString('utf8')) as TrainingState;
  const modelJson = JSON.parse(need('model.json').toString('utf8')) as { weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const decoded = tf.io.decodeWeights(arrayBufferOf(need('weights.bin')), specs);
  const weights = specs.map((spec) => decoded[spec.name]!);
  const optimizerSpecs = (JSON.parse(need('optimizer.json').toString('utf8')) as { weightSpecs: tf.io.WeightsManifestEntry[] }).weightSpecs;
  const optimizerDecoded = tf.io.decodeWeights(arrayBufferOf(need('optimizer.bin')), optimizerSpecs);
  const optimizerWeights = optimizerSpecs.map((spec) => ({ name: spec.name, tensor: optimizerDecoded[spec.name]! }));
  return { state, weights, weightNames: specs.map((spec) => spec.name), optimizerWeights };
}

/** Puts a loaded checkpoint's weights into a model of the same topology. */
export function restoreModelWeights(model: tf.LayersModel, weights: tf.Tensor[]): void {
  if (weights.length !== model.weights.length) {
    throw new Error(`checkpoint has ${weights.length} weight tensors, the model has ${model.weights.length}: the topology differs`);
  }
  model.setWeights(weights);
}

/** Restores Adam exactly: moments and iterations, then the accumulated beta powers. */
export async function restoreOptimizer(optimizer: tf.Optimizer, loaded: LoadedCheckpoint): Promise<void> {
  await (optimizer as unknown as AdamLike).setWeights(loaded.optimizerWeights);
  const adam = adamInternals(optimizer);
  adam.accBeta1.assign(tf.scalar(loaded.state.adam.accBeta1));
  adam.accBeta2.assign(tf.scalar(loaded.state.adam.accBeta2));
}
