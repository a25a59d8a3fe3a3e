// Replacing one of tfjs-backend-wasm's kernels with a faster path for the cases freshet's
// models hit, the original kernel keeping every other case. tf.registerKernel is tfjs's
// public extension point; the heap methods below are the WASM backend's own (4.22), used
// the way its JavaScript kernels use them.
import { tf } from './backend.ts';

export interface WasmBackendHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view of the tensor's values in the WASM heap: take views after every makeOutput (allocating can grow, and move, the memory). */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

export type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];

/** Replaces the WASM backend's kernel `name` by `fast`, which returns undefined for the cases it leaves to the original. Idempotent. */
export function overrideWasmKernel(name: string, fast: (args: KernelArgs, heap: WasmBackendHeap) => tf.TensorInfo | tf.TensorInfo[] | undefined): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original || (original as { freshet?: boolean }).freshet) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    freshet: true,
    kernelFunc: (args) => fast(args, args.backend as unknown as WasmBackendHeap) ?? original.kernelFunc(args),
  } as tf.KernelConfig);
}
