// The built-in MLP's loss and gradients for one training batch, computed layer by layer
// without tfjs's gradient tape: what optimizer.minimize computes, the same kernels on the
// same values, so the same bits (tested against minimize, step for step).
//
// Why: with the tape, tfjs's engine records every kernel of the forward pass, clones each
// tensor a gradient needs (a copy on WASM before wasm-identity.ts), walks the tape to find
// the path from the variables to the loss, and runs each kernel's gradient function, whose
// small kernels for the loss alone (div, ones, mul, step, neg, reshapes) each cost a
// dispatch. A training step of the flights' model is about 60 kernels; most of the
// engine's share of it is that bookkeeping, and the chain of an MLP is known in advance.
//
// The loss itself is computed here too, from the predictions read back (a few hundred
// floats), instead of by the loss's five kernels.
//
// Only for what the chain below is exactly: regression with mse or mae, hidden layers
// relu, elu or linear, no dropout and no L2 (the defaults). Anything else returns
// undefined and the training step takes the tape.
import { tf } from '../backend.ts';
import { denseBackward, denseForwardAsTaped, type DenseActivation } from './dense-op.ts';
import type { RowInputs } from './trainable-model.ts';
import type { LossFn, LossName } from './train-step.ts';

export interface MlpChain {
  /** Embedding tables in categorical column order, then each dense layer's kernel and bias. */
  tables: readonly tf.Variable[];
  kernels: readonly tf.Variable[];
  biases: readonly tf.Variable[];
  /** Each dense layer's fused activation. */
  activations: readonly DenseActivation[];
  inputsOfRows(x: Float32Array, rows: number): RowInputs;
  /** The first dense layer's input: the numeric block and each column's embedding, concatenated. */
  embedded(numeric: tf.Tensor2D | undefined, ids: tf.Tensor1D[]): tf.Tensor2D;
}

export interface LossAndGradients {
  cost: tf.Scalar;
  /** One per variable, in the model's variable order (tables, then kernel and bias per layer). */
  gradients: tf.Tensor[];
}

/** The batch's loss and every variable's gradient; undefined for a loss this chain does not cover. Call inside tf.tidy. */
export function mlpLossAndGradients(chain: MlpChain, x: Float32Array, y: Float32Array, rows: number, loss: { name: LossName; fn: LossFn }): LossAndGradients | undefined {
  if (loss.name !== 'mse' && loss.name !== 'mae') return undefined;
  const { numeric, ids } = chain.inputsOfRows(x, rows);
  const features = ids.length === 0 ? numeric! : chain.embedded(numeric, ids);
  // Forward, keeping each layer's input and output for its gradient.
  const inputs: tf.Tensor2D[] = [];
  const outputs: tf.Tensor2D[] = [];
  let h = features;
  chain.kernels.forEach((kernel, i) => {
    inputs.push(h);
    h = denseForwardAsTaped(chain.activations[i]!, h, kernel as tf.Tensor2D, chain.biases[i] as tf.Tensor1D);
    outputs.push(h);
  });
  // The loss and its gradient at the predictions, from the predictions read back (rows floats).
  const atPredictions = lossAtPredictions(loss.name, y, h.dataSync() as Float32Array, rows);
  const cost = tf.scalar(atPredictions.loss);
  let dy: tf.Tensor2D = tf.tensor2d(atPredictions.gradient, [rows, 1]);
  const layerGradients: tf.Tensor[] = [];
  for (let i = chain.kernels.length - 1; i >= 0; i--) {
    const needsInputGradient = i > 0 || ids.length > 0;
    const { dx, dw, db } = denseBackward(chain.activations[i]!, dy, inputs[i]!, chain.kernels[i] as tf.Tensor2D, outputs[i]!, needsInputGradient);
    layerGradients.unshift(dw, db);
    if (dx) dy = dx;
  }
  // The concat's gradient is a split of dy (tfjs's Concat gradient), each embedding's a
  // segment sum of its part by id (tfjs's GatherV2 gradient; its reshapes and identity
  // transposes change no value).
  const widths = [...(numeric ? [numeric.shape[1]] : []), ...chain.tables.map((t) => t.shape[1]!)];
  const parts = widths.length > 1 ? tf.split(dy, widths, 1) : [dy];
  const embeddingParts = numeric ? parts.slice(1) : parts;
  const tableGradients = chain.tables.map((table, k) => tf.unsortedSegmentSum(embeddingParts[k]!, ids[k]!, table.shape[0]!));
  return { cost, gradients: [...tableGradients, ...layerGradients] };
}

/**
 * The batch loss and d loss / d prediction, as tfjs's losses and their gradients make them
 * (reduction: the mean over the batch, `SUM_BY_NONZERO_WEIGHTS` without weights), every
 * operation in float32 and the sum in tfjs's order (from 0, row after row: Sum.cc), so the
 * same bits as the kernels (tested). With d = y − p and c = 1/n:
 * - mse (squaredDifference, sum, div by n): loss Σ d·d / n; gradient c · (2 · (p − y));
 * - mae (abs of sub, sum, div by n): loss Σ |d| / n; gradient −c · step(d, −1), i.e. −c
 *   where d > 0, +c where d ≤ 0 (step's alpha), NaN where d is NaN.
 */
export function lossAtPredictions(loss: 'mse' | 'mae', labels: Float32Array, predictions: Float32Array, rows: number): { loss: number; gradient: Float32Array } {
  const f = Math.fround;
  const c = f(1 / rows);
  const gradient = new Float32Array(rows);
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const difference = f(labels[i]! - predictions[i]!);
    if (loss === 'mse') {
      sum = f(sum + f(difference * difference));
      gradient[i] = c * f(2 * f(predictions[i]! - labels[i]!));
    } else {
      sum = f(sum + Math.abs(difference));
      gradient[i] = difference > 0 ? -c : difference !== difference ? Number.NaN : c;
    }
  }
  return { loss: f(sum / rows), gradient };
}
