// GatherV2 on the WASM backend for the case embeddings use (rows of a float32 table picked
// by int32 ids: axis 0, no batch dimensions), in JavaScript over the backend's heap; any
// other gather goes to tfjs's own kernel.
//
// Why: tfjs-backend-wasm 4.22's gather (gather_impl.cc) computes every output element's
// source through strides, element by element, and its JavaScript side first copies all
// ids out of the heap and checks each through a closure. An embedding lookup is a copy of
// whole rows: here one loop per row. On the flights backtest the gathers (training and
// predictions, four embedded columns) were 11 s of 109 (BENCHMARKS.md › Retrains three
// times faster). A copy is exact, so results are the same bits (tested).
import type { tf } from './backend.ts';
import { overrideWasmKernel, type KernelArgs, type WasmBackendHeap } from './wasm-kernel-override.ts';

function gatherRows({ inputs, attrs }: KernelArgs, heap: WasmBackendHeap) {
  const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
  const rowsOfX = x.shape[0] ?? 0;
  if (axis !== 0 || batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32' || x.shape.length < 1 || rowsOfX === 0) return undefined;
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = heap.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
  // Views after makeOutput: allocating can grow (and move) the WASM memory.
  const rows = heap.typedArrayFromHeap(out) as Float32Array;
  const table = heap.typedArrayFromHeap(x) as Float32Array;
  const ids = heap.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    // tfjs's own message for an id outside the table.
    if (id < 0 || id >= rowsOfX) throw new Error(`GatherV2: the index value ${id} is not in [0, ${rowsOfX - 1}]`);
    const from = id * inner;
    const to = i * inner;
    for (let j = 0; j < inner; j++) rows[to + j] = table[from + j]!;
  }
  return out;
}

export function registerWasmGather(): void {
  overrideWasmKernel('GatherV2', gatherRows);
}
