// One dense layer for training: y = act(x·W + b), with a gradient that keeps the WASM
// backend on its fast path.
//
// Why: tfjs-backend-wasm's BatchMatMul uses XNNPACK only when neither operand is
// transposed, and falls back to a scalar triple loop otherwise (batch_mat_mul_impl.cc).
// The built-in gradient of matMul is matMul(dy, W, false, true) and matMul(x, dy, true,
// false): both transposed, so about two thirds of a step's matrix work ran in that loop
// (1.34 ms against 0.16 ms for the same 256×64 operands transposed explicitly first).
// Here the backward pass transposes explicitly (a cheap copy) and multiplies untransposed.
// The arithmetic is the same products summed in another order, so results differ from the
// built-in gradient in the last bits only, and are deterministic: exact resume holds.
import { tf } from '../backend.ts';
import { reluMask } from '../wasm-relu-mask.ts';
import { columnSums } from '../wasm-column-sums.ts';

export type DenseActivation = 'relu' | 'elu' | 'linear';

/**
 * A dense layer with the fast gradient. `needsInputGradient` false (the first layer:
 * its input is data) skips the matMul for dx and returns zeros of x's shape.
 */
export function denseForTraining(activation: DenseActivation, needsInputGradient: boolean): (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const y = denseForward(activation, x, w, b);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, ws, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const { dx, dw, db } = denseBackward(activation, dy as tf.Tensor2D, xs, ws, ys, needsInputGradient);
        return [dx ?? tf.zerosLike(xs), dw, db];
      },
    };
  }) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
}

/** y = act(x·W + b): tfjs's fused matMul, one kernel outside a gradient tape. */
export function denseForward(activation: DenseActivation, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tf.Tensor2D;
}

/**
 * y = act(x·W + b) as denseForward computes it under a gradient tape, i.e. in the taped
 * training step: there tfjs fuses only a linear layer, and runs any other as matMul, add
 * and the activation (tfjs-core's shouldFuse), which rounds the bias in differently. The
 * tape-free gradients (mlp-gradients.ts) use this, so the weights are the same bits.
 */
export function denseForwardAsTaped(activation: DenseActivation, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (activation === 'linear') return denseForward(activation, x, w, b);
  const z = tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
  return activation === 'relu' ? tf.relu(z) : tf.elu(z);
}

/**
 * The layer's gradients from dy (the gradient at its output y): what the custom gradient
 * above returns, and what the MLP's gradients without the tape (mlp-gradients.ts) compute,
 * kernel for kernel. dx is undefined when not needed.
 */
export function denseBackward(activation: DenseActivation, dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, y: tf.Tensor2D, needsInputGradient: boolean): { dx: tf.Tensor2D | undefined; dw: tf.Tensor2D; db: tf.Tensor1D } {
  const dz = (activation === 'relu' ? reluMask(dy, y) : activation === 'elu' ? tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1))) : dy) as tf.Tensor2D;
  return {
    dx: needsInputGradient ? tf.matMul(dz, tf.transpose(w)) : undefined,
    dw: tf.matMul(tf.transpose(x), dz),
    db: columnSums(dz),
  };
}
