// Models: the built-in MLP (from config) and user modules (createModel(tf, { inputDim, categorical })).
//
// The MLP is a tf.Sequential of Dense layers, so it saves and serves as a standard tfjs
// LayersModel, but its training pass is our own: dense layers with a gradient that stays
// on WASM's fast matMul path (dense-op.ts), for the default chain gradients computed
// without the tape (mlp-gradients.ts), and dropout seeded per step (tfjs's Dropout layer is
// either unseeded or reuses one mask for every step, and either would break exact resume).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tf } from '../backend.ts';
import type { ResolvedConfig } from '../../core/config.ts';
import { mixSeed } from '../../core/rng.ts';
import { denseForTraining, type DenseActivation } from './dense-op.ts';
import { mlpLossAndGradients, type LossAndGradients } from './mlp-gradients.ts';
import type { TrainingLoss } from './train-step.ts';
import { layoutWidth, modelInputs, type InputLayout } from './input-layout.ts';
import { coerceError } from '../../core/errors.ts';

export interface MlpSpec {
  task: 'regression' | 'binary';
  hidden: readonly number[];
  activation: 'relu' | 'tanh' | 'elu' | 'sigmoid';
  dropout: number;
  l2: number;
}

export interface TrainableModel {
  model: tf.LayersModel;
  /** Forward pass for training at `step` (dropout masks depend on it). */
  forward(x: tf.Tensor2D, step: number): tf.Tensor2D;
  /** The same pass on a batch still in JavaScript (`rows` rows of the input layout): what the training step calls. */
  forwardRows(x: Float32Array, rows: number, step: number): tf.Tensor2D;
  /** Extra loss terms (L2). */
  penalty(): tf.Scalar | undefined;
  /** The batch's loss and gradients without tfjs's tape (the built-in MLP, where mlp-gradients.ts covers it); undefined: use the tape. */
  lossAndGradients?(x: Float32Array, y: Float32Array, rows: number, loss: TrainingLoss): LossAndGradients | undefined;
  /** The variables the optimizer updates, in a fixed order. */
  variables: tf.Variable[];
  /** Where the model came from, for logs and the registry. */
  description: string;
}

/**
 * `gradient: 'builtin'` keeps tfjs's own matMul gradient (the transposed slow path on
 * WASM), for `npm run bench:train` to measure the fast gradient against in the same run.
 *
 * Without categorical columns the model is a tf.Sequential of Dense layers on the numeric
 * features. With them it is a functional model: the numeric input and one embedding per
 * categorical column (tf.layers.embedding on a [batch, 1] id input, flattened),
 * concatenated, then the same Dense stack (its training input: embeddedInputs). (Why one function of about 80 lines: both
 * shapes share the seeded initialisers and the Dense stack, and are read side by side.)
 */
export function buildMlp(spec: MlpSpec, input: number | InputLayout, seed: number, options: { gradient?: 'fast' | 'builtin' } = {}): TrainableModel {
  const layout: InputLayout = typeof input === 'number' ? { numeric: input, categorical: [] } : input;
  const categorical = layout.categorical;
  const sizes = [...spec.hidden, 1];
  const activations = sizes.map((_, i) => (i === sizes.length - 1 ? (spec.task === 'binary' ? 'sigmoid' : 'linear') : spec.activation));
  const denseLayers = sizes.map((units, i) =>
    tf.layers.dense({
      units,
      inputShape: i === 0 && categorical.length === 0 ? [layout.numeric] : undefined,
      activation: activations[i]!,
      kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeed(seed, i, 1) }),
      biasInitializer: 'zeros',
      name: `dense_${i}`,
    }),
  );
  let model: tf.LayersModel;
  const embeddingLayers = categorical.map((c, k) =>
    tf.layers.embedding({
      inputDim: c.size,
      outputDim: c.embeddingDim,
      // Keras's default for embeddings, seeded.
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: mixSeed(seed, k, 3) }),
      name: `embedding_${k}`,
    }),
  );
  if (categorical.length === 0) {
    model = tf.sequential({ layers: denseLayers });
  } else {
    const inputs: tf.SymbolicTensor[] = [];
    const parts: tf.SymbolicTensor[] = [];
    if (layout.numeric > 0) {
      const numeric = tf.input({ shape: [layout.numeric], name: 'numeric' });
      inputs.push(numeric);
      parts.push(numeric);
    }
    categorical.forEach((_, k) => {
      const ids = tf.input({ shape: [1], name: `category_${k}` });
      inputs.push(ids);
      parts.push(tf.layers.flatten({ name: `flatten_${k}` }).apply(embeddingLayers[k]!.apply(ids)) as tf.SymbolicTensor);
    });
    let h = parts.length > 1 ? (tf.layers.concatenate({ name: 'features' }).apply(parts) as tf.SymbolicTensor) : parts[0]!;
    for (const layer of denseLayers) h = layer.apply(h) as tf.SymbolicTensor;
    model = tf.model({ inputs, outputs: h, name: 'mlp' });
  }
  const valueOf = (weight: tf.LayerVariable) => (weight as unknown as { val: tf.Variable }).val;
  const tables = embeddingLayers.map((layer) => valueOf(layer.trainableWeights[0]!));
  const kernels = denseLayers.map((layer) => valueOf(layer.trainableWeights[0]!));
  const biases = denseLayers.map((layer) => valueOf(layer.trainableWeights[1]!));
  const variables = [...tables, ...kernels.flatMap((k, i) => [k, biases[i]!])];
  const fused = activations.map((a) => (a === 'sigmoid' || a === 'tanh' ? 'linear' : (a as DenseActivation)));
  // The first layer's input is data (no gradient needed), unless embeddings feed it.
  const dense = fused.map((activation, i) =>
    options.gradient === 'builtin'
      ? (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tf.Tensor2D
      : denseForTraining(activation, i > 0 || categorical.length > 0),
  );
  const { features, featuresOfRows, inputsOfRows, embedded } = embeddedInputs(layout, tables);
  // The chain mlp-gradients.ts computes exactly: no dropout, no L2, no separate activation op.
  const tapeFree = options.gradient !== 'builtin' && spec.dropout === 0 && spec.l2 <= 0 && activations.every((a, i) => a === fused[i]);
  const chain = { tables, kernels, biases, activations: fused, inputsOfRows, embedded };
  const denseStack = (input: tf.Tensor2D, step: number): tf.Tensor2D => {
    let h = input;
    for (let i = 0; i < sizes.length; i++) {
      h = dense[i]!(h, kernels[i] as tf.Tensor2D, biases[i] as tf.Tensor1D);
      if (activations[i] === 'sigmoid') h = tf.sigmoid(h) as tf.Tensor2D;
      if (activations[i] === 'tanh') h = tf.tanh(h) as tf.Tensor2D;
      if (spec.dropout > 0 && i < sizes.length - 1) h = tf.dropout(h, spec.dropout, undefined, mixSeed(seed, step, i, 2)) as tf.Tensor2D;
    }
    return h;
  };
  const embeddingSizes = categorical.map((c) => `${c.column}:${c.size}×${c.embeddingDim}`).join(' ');
  return {
    model,
    variables,
    description: `mlp ${layoutWidth(layout)}→${sizes.join('→')} ${spec.activation}${embeddingSizes ? ` embeddings ${embeddingSizes}` : ''}`,
    forward: (x, step) => denseStack(features(x), step),
    forwardRows: (x, rows, step) => denseStack(featuresOfRows(x, rows), step),
    lossAndGradients: tapeFree ? (x, y, rows, loss) => mlpLossAndGradients(chain, x, y, rows, loss) : undefined,
    penalty() {
      if (spec.l2 <= 0) return undefined;
      return tf.mul(spec.l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;
    },
  };
}

/**
 * The first Dense layer's input in training: the numeric features, then each categorical
 * column's embedding (gather's gradient: UnsortedSegmentSum, trainer/wasm-segment-sum.ts on
 * WASM), from a batch tensor (`features`) or from the batch still in JavaScript
 * (`featuresOfRows`, what the training step uses). Why the second: on WASM every slice
 * copies its whole input out of the heap first, and slice, reshape and cast per column were
 * 8 % of a flights backtest (BENCHMARKS.md › Retrains three times faster). The values are
 * the same (ids are whole numbers held as floats; Int32Array truncates as cast does), so
 * training is.
 */
function embeddedInputs(layout: InputLayout, tables: readonly tf.Variable[]) {
  const categorical = layout.categorical;
  const embedded = (numeric: tf.Tensor2D | undefined, ids: tf.Tensor1D[]): tf.Tensor2D => {
    const parts: tf.Tensor2D[] = numeric ? [numeric] : [];
    ids.forEach((columnIds, k) => parts.push(tf.gather(tables[k]!, columnIds) as tf.Tensor2D));
    return parts.length > 1 ? tf.concat(parts, 1) : parts[0]!;
  };
  const features = (x: tf.Tensor2D): tf.Tensor2D => {
    if (categorical.length === 0) return x;
    const numeric = layout.numeric > 0 ? tf.slice(x, [0, 0], [-1, layout.numeric]) : undefined;
    return embedded(numeric, categorical.map((_, k) => tf.cast(tf.reshape(tf.slice(x, [0, layout.numeric + k], [-1, 1]), [-1]), 'int32') as tf.Tensor1D));
  };
  const inputsOfRows = (x: Float32Array, rows: number): RowInputs => {
    const width = layoutWidth(layout);
    if (categorical.length === 0) return { numeric: tf.tensor2d(x.subarray(0, rows * width), [rows, width]), ids: [] };
    let numeric: tf.Tensor2D | undefined;
    if (layout.numeric > 0) {
      const values = new Float32Array(rows * layout.numeric);
      for (let r = 0; r < rows; r++) values.set(x.subarray(r * width, r * width + layout.numeric), r * layout.numeric);
      numeric = tf.tensor2d(values, [rows, layout.numeric]);
    }
    const ids = categorical.map((_, k) => {
      const column = new Int32Array(rows);
      for (let r = 0; r < rows; r++) column[r] = x[r * width + layout.numeric + k]!;
      return tf.tensor1d(column, 'int32');
    });
    return { numeric, ids };
  };
  const featuresOfRows = (x: Float32Array, rows: number): tf.Tensor2D => {
    const { numeric, ids } = inputsOfRows(x, rows);
    return categorical.length === 0 ? numeric! : embedded(numeric, ids);
  };
  return { features, featuresOfRows, inputsOfRows, embedded };
}

/** A training batch as the model's inputs: the numeric block (undefined when there is none) and each categorical column's ids. */
export interface RowInputs {
  numeric: tf.Tensor2D | undefined;
  ids: tf.Tensor1D[];
}

/** Loads a user model module; errors name the file. */
export async function loadUserModel(file: string, layout: InputLayout): Promise<TrainableModel> {
  const inputDim = layoutWidth(layout);
  if (!fs.existsSync(file)) throw new Error(`model.module ${file} does not exist`);
  let mod: { createModel?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { createModel?: unknown };
  } catch (error) {
    throw new Error(`model.module ${file} failed to load: ${coerceError(error).message}`, { cause: error });
  }
  if (typeof mod.createModel !== 'function') throw new Error(`model.module ${file} does not export a createModel(tf, { inputDim, categorical }) function`);
  let model: unknown;
  try {
    // inputDim: values per row (numeric features, then one id per categorical column);
    // categorical: each column's vocabulary size and suggested embedding size. A model with
    // categorical columns takes the numeric features and then one [batch, 1] id input per column.
    model = await (mod.createModel as (t: typeof tf, o: { inputDim: number; numericDim: number; categorical: InputLayout['categorical'] }) => unknown)(tf, { inputDim, numericDim: layout.numeric, categorical: layout.categorical });
  } catch (error) {
    throw new Error(`model.module ${file}: createModel threw: ${coerceError(error).message}`, { cause: error });
  }
  if (!(model instanceof tf.LayersModel)) throw new Error(`model.module ${file}: createModel must return a tf.LayersModel`);
  const layersModel = model;
  const out = layersModel.outputs[0]?.shape;
  if (!out || out.at(-1) !== 1) throw new Error(`model.module ${file}: the model must have one output unit, found shape ${JSON.stringify(out)}`);
  return {
    model: layersModel,
    variables: layersModel.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    description: `module ${file}`,
    forward: (x) => layersModel.apply(modelInputs(layersModel, x), { training: true }) as tf.Tensor2D,
    forwardRows: (x, rows) => layersModel.apply(modelInputs(layersModel, tf.tensor2d(x.subarray(0, rows * inputDim), [rows, inputDim])), { training: true }) as tf.Tensor2D,
    penalty: () => undefined,
  };
}

/** The configured model for a lineage's input layout: the user's module when `model.module` is set, else the built-in MLP. */
export async function buildModel(config: ResolvedConfig, layout: InputLayout): Promise<TrainableModel> {
  return config.model.module ? loadUserModel(config.model.module, layout) : buildMlp(config.model, layout, config.training.seed);
}
