// sum(x, 0) of a 2-D float32 tensor — a dense layer's bias gradient — as one kernel on the
// WASM backend: a WebAssembly SIMD function (wasm/column-sums.wat) on the backend's memory.
//
// Why: tfjs-backend-wasm sums along rows only, so its sum over axis 0 first transposes the
// whole batch-sized matrix (tfjs's general transpose), then sums, at every layer of every
// training step. The additions are tfjs's, in its order (from 0, row after row), so the
// result is the same bits (tested against tf.sum).
import { tf } from './backend.ts';
import { WASM_BYTES } from './wasm/column-sums-wasm.ts';
import { backendModuleExports, heapOffset, type WasmBackendInternals } from './wasm-backend-module.ts';

export const COLUMN_SUMS = 'FreshetColumnSums';

type ColumnSumsFn = (input: number, output: number, rows: number, columns: number) => void;

export function registerWasmColumnSums(): void {
  if (tf.getKernel(COLUMN_SUMS, 'wasm')) return;
  tf.registerKernel({
    kernelName: COLUMN_SUMS,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as { x: tf.TensorInfo };
      const [rows, columns] = x.shape as [number, number];
      const internals = backend as unknown as WasmBackendInternals;
      const out = internals.makeOutput([columns], 'float32');
      if (columns > 0) (backendModuleExports(WASM_BYTES, internals).columnSums as ColumnSumsFn)(heapOffset(internals, x), heapOffset(internals, out), rows, columns);
      return out;
    },
  });
}

/** sum(x, 0) of a 2-D float32 tensor: one kernel on WASM, tfjs's sum elsewhere. */
export function columnSums(x: tf.Tensor2D): tf.Tensor1D {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.sum(x, 0);
  return tf.engine().runKernel(COLUMN_SUMS, { x }) as tf.Tensor1D;
}
