// Models: the built-in MLP (from config) and user modules (createModel(tf, { inputDim })).
//
// The MLP is a tf.Sequential of Dense layers, so it saves and serves as a standard tfjs
// LayersModel, but its training forward pass is our own: fused matMul+bias+activation per
// layer (fewer kernels per step) with a gradient that stays on WASM's fast matMul path
// (dense-op.ts), and dropout seeded per step (tfjs's Dropout layer is
// either unseeded or reuses one mask for every step, and either would break exact resume).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tf } from '../backend.ts';
import type { ResolvedConfig } from '../../core/config.ts';
import { mixSeed } from '../../core/rng.ts';
import { denseForTraining, type DenseActivation } from './dense-op.ts';

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
  /** Extra loss terms (L2). */
  penalty(): tf.Scalar | undefined;
  /** The variables the optimizer updates, in a fixed order. */
  variables: tf.Variable[];
  /** Where the model came from, for logs and the registry. */
  description: string;
}

/**
 * `gradient: 'builtin'` keeps tfjs's own matMul gradient (the transposed slow path on
 * WASM), for `npm run bench:train` to measure the fast gradient against in the same run.
 */
export function buildMlp(spec: MlpSpec, inputDim: number, seed: number, options: { gradient?: 'fast' | 'builtin' } = {}): TrainableModel {
  const layers: tf.layers.Layer[] = [];
  const sizes = [...spec.hidden, 1];
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    layers.push(
      tf.layers.dense({
        units,
        inputShape: i === 0 ? [inputDim] : undefined,
        activation: last ? (spec.task === 'binary' ? 'sigmoid' : 'linear') : spec.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: mixSeed(seed, i, 1) }),
        biasInitializer: 'zeros',
        name: `dense_${i}`,
      }),
    );
  });
  const model = tf.sequential({ layers });
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const activations = sizes.map((_, i) => (i === sizes.length - 1 ? (spec.task === 'binary' ? 'sigmoid' : 'linear') : spec.activation));
  const fused = activations.map((a) => (a === 'sigmoid' || a === 'tanh' ? 'linear' : (a as DenseActivation)));
  // The first layer's input is data: no gradient is needed for it.
  const dense = fused.map((activation, i) =>
    options.gradient === 'builtin'
      ? (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tf.Tensor2D
      : denseForTraining(activation, i > 0),
  );
  return {
    model,
    variables,
    description: `mlp ${inputDim}→${sizes.join('→')} ${spec.activation}`,
    forward(x, step) {
      let h: tf.Tensor2D = x;
      for (let i = 0; i < sizes.length; i++) {
        h = dense[i]!(h, variables[2 * i] as tf.Tensor2D, variables[2 * i + 1] as tf.Tensor1D);
        if (activations[i] === 'sigmoid') h = tf.sigmoid(h) as tf.Tensor2D;
        if (activations[i] === 'tanh') h = tf.tanh(h) as tf.Tensor2D;
        if (spec.dropout > 0 && i < sizes.length - 1) h = tf.dropout(h, spec.dropout, undefined, mixSeed(seed, step, i, 2)) as tf.Tensor2D;
      }
      return h;
    },
    penalty() {
      if (spec.l2 <= 0) return undefined;
      const kernels = variables.filter((_, i) => i % 2 === 0);
      return tf.mul(spec.l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k))))) as tf.Scalar;
    },
  };
}

/** Loads a user model module; errors name the file. */
export async function loadUserModel(file: string, inputDim: number): Promise<TrainableModel> {
  if (!fs.existsSync(file)) throw new Error(`model.module ${file} does not exist`);
  let mod: { createModel?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { createModel?: unknown };
  } catch (error) {
    throw new Error(`model.module ${file} failed to load: ${(error as Error).message}`, { cause: error });
  }
  if (typeof mod.createModel !== 'function') throw new Error(`model.module ${file} does not export a createModel(tf, { inputDim }) function`);
  let model: unknown;
  try {
    model = await (mod.createModel as (t: typeof tf, o: { inputDim: number }) => unknown)(tf, { inputDim });
  } catch (error) {
    throw new Error(`model.module ${file}: createModel threw: ${(error as Error).message}`, { cause: error });
  }
  if (!(model instanceof tf.LayersModel)) throw new Error(`model.module ${file}: createModel must return a tf.LayersModel`);
  const layersModel = model;
  const out = layersModel.outputs[0]?.shape;
  if (!out || out.at(-1) !== 1) throw new Error(`model.module ${file}: the model must have one output unit, found shape ${JSON.stringify(out)}`);
  return {
    model: layersModel,
    variables: layersModel.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    description: `module ${file}`,
    forward: (x) => layersModel.apply(x, { training: true }) as tf.Tensor2D,
    penalty: () => undefined,
  };
}

/** The configured model: the user's module when `model.module` is set, else the built-in MLP. */
export async function buildModel(config: ResolvedConfig, inputDim: number): Promise<TrainableModel> {
  return config.model.module ? loadUserModel(config.model.module, inputDim) : buildMlp(config.model, inputDim, config.training.seed);
}
