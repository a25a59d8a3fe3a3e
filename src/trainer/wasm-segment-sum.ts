// UnsortedSegmentSum for the WASM backend, in JavaScript over the backend's heap.
//
// Why: it is the gradient of tf.gather (an embedding lookup: gather's gradient sums dy
// into the rows of the ids), and tfjs-backend-wasm 4.22 registers no kernel for it (no
// UnsortedSegmentSum in its kernels/), so any model with tf.layers.embedding — the
// built-in MLP's categorical columns, or a user model's — could not be trained on WASM.
// Registering a kernel written in JavaScript is the public tfjs extension point
// (tf.registerKernel); the work is n·d additions, done in row order, so the result is
// deterministic and exact resume holds.
import { tf } from './backend.ts';
import type { WasmBackendHeap } from './wasm-kernel-override.ts';


export function registerWasmSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const heap = backend as unknown as WasmBackendHeap;
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out = heap.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      // Views after makeOutput: allocating can grow (and move) the WASM memory.
      const sums = heap.typedArrayFromHeap(out);
      const values = heap.typedArrayFromHeap(x);
      const ids = heap.typedArrayFromHeap(segmentIds);
      sums.fill(0);
      for (let row = 0; row < ids.length; row++) {
        const segment = ids[row]!;
        if (segment < 0 || segment >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
        const to = segment * inner;
        const from = row * inner;
        for (let j = 0; j < inner; j++) sums[to + j]! += values[from + j]!;
      }
      return out;
    },
  });
}
