// freshet's own WebAssembly functions (src/trainer/wasm/*.wat, compiled to bytes by `npm
// run build:wasm`) run on the tfjs WASM backend's memory: each module imports that memory,
// so a kernel passes the byte offsets of tensors where the backend keeps them and the
// function reads and writes them in place, with no copy in or out.
//
// What this reads of tfjs-backend-wasm 4.22's backend object is not public API: the
// memory (wasm.asm.memory, checked at the first instantiation, with an error that says
// so) and each tensor's offset (dataIdMap). The fast-paths tests fail, not silently
// differ, if an upgrade of tfjs changes them.
import type { tf } from './backend.ts';
import type { WasmBackendHeap } from './wasm-kernel-override.ts';

export interface WasmBackendInternals extends WasmBackendHeap {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: unknown } };
}

// The WebAssembly globals used here; TypeScript declares them with the DOM's lib, which this project's (es2024, Node) does not include.
declare const WebAssembly: {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

// One instance per module and process: tfjs has one WASM backend, so one memory.
const instances = new Map<Uint8Array, Record<string, unknown>>();

/** The exports of the module `bytes`, instantiated once on the backend's memory. */
export function backendModuleExports(bytes: Uint8Array, backend: WasmBackendInternals): Record<string, unknown> {
  let exports = instances.get(bytes);
  if (!exports) {
    const memory = backend.wasm.asm?.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('the tfjs WASM backend does not expose its memory (wasm.asm.memory): this tfjs-backend-wasm version is not the one freshet was written for');
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
    instances.set(bytes, exports);
  }
  return exports;
}

/** The byte offset of a tensor's values in the backend's memory (allocations never move: the memory grows at its end). */
export function heapOffset(backend: WasmBackendInternals, tensor: tf.TensorInfo): number {
  return backend.dataIdMap.get(tensor.dataId)!.memoryOffset;
}
