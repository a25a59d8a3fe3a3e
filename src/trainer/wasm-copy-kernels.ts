// Slice, Concat and SplitV of 2-D float32 tensors on the WASM backend, in JavaScript over the
// backend's heap; any other slice, concat or split goes to tfjs's own kernel.
//
// Why: a model with embedded categorical columns concatenates the numeric block and one
// embedding per column before its first Dense layer at every step and every prediction,
// and the gradient of that concat is a split (one slice per part). tfjs-backend-wasm 4.22's slice
// first copies its *whole* input out of the heap (readSync), then copies the rows it wants
// one subarray at a time; its concat copies one subarray per row and part. Here both are
// plain loops over the heap (the split too). A copy is exact, so results are the same bits (tested).
import { tf } from './backend.ts';
import { overrideWasmKernel, type KernelArgs, type WasmBackendHeap } from './wasm-kernel-override.ts';

function slice2d({ inputs, attrs }: KernelArgs, heap: WasmBackendHeap): tf.TensorInfo | undefined {
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype !== 'float32' || x.shape.length !== 2) return undefined;
  const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [from, shape] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  return copyBlock(x, from as [number, number], shape as [number, number], heap);
}

/** Rows and columns [from, from + shape) of a 2-D float32 tensor, as a new tensor. */
function copyBlock(x: tf.TensorInfo, from: [number, number], shape: [number, number], heap: WasmBackendHeap): tf.TensorInfo {
  const [rows, columns] = shape;
  const width = x.shape[1]!;
  const out = heap.makeOutput([rows, columns], 'float32');
  if (rows * columns === 0) return out;
  // Views after makeOutput: allocating can grow (and move) the WASM memory.
  const target = heap.typedArrayFromHeap(out) as Float32Array;
  const source = heap.typedArrayFromHeap(x) as Float32Array;
  const first = from[0]! * width + from[1]!;
  if (columns === width) {
    target.set(source.subarray(first, first + rows * columns));
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const s = first + r * width;
    const t = r * columns;
    for (let c = 0; c < columns; c++) target[t + c] = source[s + c]!;
  }
  return out;
}

/** A split along the columns (the gradient of a concat along them): one block per part. */
function split2d({ inputs, attrs }: KernelArgs, heap: WasmBackendHeap): tf.TensorInfo[] | undefined {
  const { x } = inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  if (x.dtype !== 'float32' || x.shape.length !== 2 || (axis !== 1 && axis !== -1)) return undefined;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, 1);
  let column = 0;
  return sizes.map((width) => {
    const part = copyBlock(x, [0, column], [x.shape[0]!, width], heap);
    column += width;
    return part;
  });
}

function concat2d({ inputs, attrs }: KernelArgs, heap: WasmBackendHeap): tf.TensorInfo | undefined {
  const parts = inputs as unknown as tf.TensorInfo[];
  const axis = (attrs as unknown as { axis: number }).axis;
  const rows = parts[0]?.shape[0];
  if (parts.length < 2 || (axis !== 1 && axis !== -1) || parts.some((p) => p.dtype !== 'float32' || p.shape.length !== 2 || p.shape[0] !== rows || p.shape[1] === 0) || !rows) return undefined;
  const widths = parts.map((p) => p.shape[1]!);
  const width = widths.reduce((a, b) => a + b, 0);
  const out = heap.makeOutput([rows, width], 'float32');
  const target = heap.typedArrayFromHeap(out) as Float32Array;
  let offset = 0;
  parts.forEach((part, k) => {
    const source = heap.typedArrayFromHeap(part) as Float32Array;
    const w = widths[k]!;
    for (let r = 0; r < rows; r++) {
      const s = r * w;
      const t = r * width + offset;
      for (let c = 0; c < w; c++) target[t + c] = source[s + c]!;
    }
    offset += w;
  });
  return out;
}

export function registerWasmCopyKernels(): void {
  overrideWasmKernel('Slice', slice2d);
  overrideWasmKernel('Concat', concat2d);
  overrideWasmKernel('SplitV', split2d);
}
