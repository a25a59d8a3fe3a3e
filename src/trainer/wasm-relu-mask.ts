// The gradient through a ReLU from its output, dy · step(y), as one kernel on the WASM
// backend, for the dense layers' backward pass (model/dense-op.ts): a WebAssembly SIMD
// function (wasm/relu-mask.wat) on the backend's own memory.
//
// Why: tfjs makes it two kernels, step then mul, each a dispatch through the engine and an
// output allocation, in every hidden layer at every step. A first version of this kernel
// was a JavaScript loop, and its branch on y's sign (random in a hidden layer) made it
// 160 µs for a 256 × 64 batch, 8 % of a training step; the SIMD function chooses the
// factor with lane masks. The values are tfjs's: step(y) is 1 where y > 0, NaN where y is
// NaN, else 0, times dy, one f32 multiplication (tested bit for bit against step and mul).
import { tf } from './backend.ts';
import { WASM_BYTES } from './wasm/relu-mask-wasm.ts';
import { backendModuleExports, heapOffset, type WasmBackendInternals } from './wasm-backend-module.ts';

export const RELU_MASK = 'FreshetReluMask';

type ReluMaskFn = (dy: number, y: number, out: number, n: number) => void;

export function registerWasmReluMask(): void {
  if (tf.getKernel(RELU_MASK, 'wasm')) return;
  tf.registerKernel({
    kernelName: RELU_MASK,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
      const internals = backend as unknown as WasmBackendInternals;
      const mask = backendModuleExports(WASM_BYTES, internals).reluMask as ReluMaskFn;
      const out = internals.makeOutput(dy.shape, 'float32');
      mask(heapOffset(internals, dy), heapOffset(internals, y), heapOffset(internals, out), dy.shape.reduce((a, b) => a * b, 1));
      return out;
    },
  });
}

/** dy · step(y): one kernel on WASM, tfjs's two elsewhere. */
export function reluMask(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getBackend() !== 'wasm') return tf.mul(dy, tf.step(y));
  return tf.engine().runKernel(RELU_MASK, { dy, y }) as tf.Tensor;
}
