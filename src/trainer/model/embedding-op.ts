// An embedding lookup for training: rows of a table by id, with a gradient the WASM
// backend can run.
//
// Why: tf.gather's gradient is UnsortedSegmentSum, which tfjs-backend-wasm does not
// register (no kernel in its kernels/ folder), so a model with tf.layers.embedding cannot
// be trained there with the built-in gradient. Here the gradient is the one-hot matrix of
// the ids, transposed explicitly, times dy: dTable[v] = Σ over rows with id v of dy[row],
// on the untransposed (XNNPACK) matMul path, deterministic, so exact resume holds.
import { tf } from '../backend.ts';

/** table[ids]: [batch, dim] rows of a [size, dim] table for int32 ids of shape [batch]. */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return lookup(table, ids);
}

// The ids go in as an input and are saved for the backward pass: a tensor only closed over
// would be disposed with the forward pass's scope before the gradient runs.
const lookup = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [weights, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([ids]);
  const size = weights.shape[0];
  return {
    value: tf.gather(weights, ids) as tf.Tensor2D,
    gradFunc: (dy, saved) => {
      const [savedIds] = saved as [tf.Tensor1D];
      const oneHotT = tf.transpose(tf.oneHot(savedIds, size, 1, 0, 'float32')) as tf.Tensor2D;
      return [tf.matMul(oneHotT, dy as tf.Tensor2D), tf.zerosLike(savedIds)];
    },
  };
}) as unknown as (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D;
