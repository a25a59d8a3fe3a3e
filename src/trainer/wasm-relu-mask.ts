// The gradient through a ReLU from its output, dy · step(y), as one kernel on the WASM
// backend (JavaScript over the heap), for the dense layers' backward pass (model/dense-op.ts).
//
// Why: tfjs makes it two kernels, step then mul, each a dispatch through the engine and an
// output allocation, in every hidden layer at every step; a kernel dispatch costs about as
// much as the arithmetic on a 256 × 64 batch. The values are tfjs's: step(y) is 1 where
// y > 0, NaN where y is NaN, else 0, and the float32 product of dy with 1, 0 or NaN is
// exact in a double (tested against step and mul).
import { tf } from './backend.ts';
import type { WasmBackendHeap } from './wasm-kernel-override.ts';

export const RELU_MASK = 'FreshetReluMask';

export function registerWasmReluMask(): void {
  if (tf.getKernel(RELU_MASK, 'wasm')) return;
  tf.registerKernel({
    kernelName: RELU_MASK,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
      const heap = backend as unknown as WasmBackendHeap;
      const out = heap.makeOutput(dy.shape, 'float32');
      // Views after makeOutput: allocating can grow (and move) the WASM memory.
      const masked = heap.typedArrayFromHeap(out) as Float32Array;
      const gradient = heap.typedArrayFromHeap(dy) as Float32Array;
      const output = heap.typedArrayFromHeap(y) as Float32Array;
      for (let i = 0; i < masked.length; i++) {
        const v = output[i]!;
        masked[i] = gradient[i]! * (v > 0 ? 1 : v !== v ? Number.NaN : 0);
      }
      return out;
    },
  });
}

/** dy · step(y): one kernel on WASM, tfjs's two elsewhere. */
export function reluMask(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.mul(dy, tf.step(y));
  return tf.engine().runKernel(RELU_MASK, { dy, y }) as tf.Tensor;
}
