// The transpose of a 2-D float32 or int32 matrix on the WASM backend by a WebAssembly SIMD
// function (wasm/transpose.wat); any other transpose goes to tfjs's own kernel.
//
// Why: every dense layer's backward pass transposes its input and its kernel at every
// training step (model/dense-op.ts), and tfjs-backend-wasm 4.22's transpose, written for N
// dimensions, took 8 % of a step of the flights' model. Values are moved, not computed,
// so the result is the same bits (tested).
import { tf } from './backend.ts';
import { WASM_BYTES } from './wasm/transpose-wasm.ts';
import { backendModuleExports, heapOffset, type WasmBackendInternals } from './wasm-backend-module.ts';
import { overrideWasmKernel } from './wasm-kernel-override.ts';

type Transpose2dFn = (input: number, output: number, rows: number, columns: number) => void;

export function registerWasmTranspose(): void {
  overrideWasmKernel(tf.Transpose, ({ inputs, attrs }, heap) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { perm } = attrs as unknown as { perm: number[] };
    if (x.shape.length !== 2 || perm[0] !== 1 || perm[1] !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return undefined;
    const [rows, columns] = x.shape as [number, number];
    const internals = heap as WasmBackendInternals;
    const out = internals.makeOutput([columns, rows], x.dtype);
    if (rows * columns > 0) (backendModuleExports(WASM_BYTES, internals).transpose2d as Transpose2dFn)(heapOffset(internals, x), heapOffset(internals, out), rows, columns);
    return out;
  });
}
