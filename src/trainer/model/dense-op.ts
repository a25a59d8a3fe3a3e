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

export type DenseActivation = 'relu' | 'elu' | 'linear';

/**
 * A dense layer with the fast gradient. `needsInputGradient` false (the first layer:
 * its input is data) skips the matMul for dx and returns zeros of x's shape.
 */
export function denseForTraining(activation: DenseActivation, needsInputGradient: boolean): (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const y = tf.fused.matMul({ a: x, b: w, bias: b, activation });
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, ws, ys] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = activation === 'relu' ? reluMask(dy, ys) : activation === 'elu' ? tf.mul(dy, tf.where(tf.greater(ys, 0), tf.onesLike(ys), tf.add(ys, 1))) : dy;
        const dx = needsInputGradient ? tf.matMul(dz as tf.Tensor2D, tf.transpose(ws)) : tf.zerosLike(xs);
        return [dx, tf.matMul(tf.transpose(xs), dz as tf.Tensor2D), tf.sum(dz, 0)];
      },
    };
  }) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
}
