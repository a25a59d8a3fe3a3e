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
  const labels = tf.tensor2d(y.subarray(0, rows), [rows, 1]);
  const cost = loss.fn(labels, h);
  // Backward: the loss's gradient at the predictions, then layer by layer.
  let dy: tf.Tensor2D = tf.tensor2d(predictionGradient(loss.name, y, h.dataSync() as Float32Array, rows), [rows, 1]);
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
 * d loss / d prediction, as tfjs's gradients of its losses make it (reduction: the mean
 * over the batch, `SUM_BY_NONZERO_WEIGHTS` without weights): with c = 1/n in float32,
 * - mse, squaredDifference then sum then div by n: c · (2 · (p − y)), each step float32;
 * - mae, abs(sub(y, p)) then sum then div by n: −c · step(y − p, −1), i.e. −c where
 *   y − p > 0, +c where it is ≤ 0 (step's alpha), NaN where it is NaN.
 */
export function predictionGradient(loss: 'mse' | 'mae', labels: Float32Array, predictions: Float32Array, rows: number): Float32Array {
  const f = Math.fround;
  const c = f(1 / rows);
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    if (loss === 'mse') {
      out[i] = c * f(2 * f(predictions[i]! - labels[i]!));
    } else {
      const difference = f(labels[i]! - predictions[i]!);
      out[i] = difference > 0 ? -c : difference !== difference ? Number.NaN : c;
    }
  }
  return out;
}
