// One Adam update of one variable as a single kernel on the WASM backend: new value,
// first and second moment from value, gradient and the two moments, in one pass, by a
// small WebAssembly SIMD function (wasm/adam-update.wat) working on the backend's own
// memory.
//
// Why: tfjs's Adam runs about a dozen kernels per variable per step (mul, add, square,
// div, sqrt, …, each a dispatch through the engine and an output allocation); on the
// benchmark MLP that was 1.1–1.5 ms of a 3.3–3.8 ms step, measured against plain SGD on
// the same step (2026-12-03). A first version of this kernel was a JavaScript loop (Math.fround
// after each operation): with an embedding table of 85,000 weights (the flights' origin ×
// hour cross) it was still 8 % of a backtest, about 22 ns per weight; four lanes at a time in
// WebAssembly it is a few ns (BENCHMARKS.md › Retrains three times faster). The arithmetic
// is tfjs's own, operation by operation in float32 (WebAssembly's f32 operations are
// correctly rounded, lane by lane), so the weights come out bit-identical to tfjs's Adam
// (tested) and checkpoints keep their format.
import { tf } from './backend.ts';
import { WASM_BYTES } from './wasm/adam-update-wasm.ts';
import { backendModuleExports, heapOffset, type WasmBackendInternals } from './wasm-backend-module.ts';

export const ADAM_UPDATE = 'FreshetAdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  /** 1 − beta1^t and 1 − beta2^t, as float32 (tfjs's sub(1, accBeta)). */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  learningRate: number;
}

type AdamUpdateFn = (value: number, gradient: number, m: number, v: number, outValue: number, outM: number, outV: number, n: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, c1: number, c2: number, epsilon: number, step: number) => void;

const f = Math.fround;

export function registerWasmAdamUpdate(): void {
  if (tf.getKernel(ADAM_UPDATE, 'wasm')) return;
  tf.registerKernel({
    kernelName: ADAM_UPDATE,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { value, gradient, m, v } = inputs as Record<'value' | 'gradient' | 'm' | 'v', tf.TensorInfo>;
      const a = attrs as unknown as AdamUpdateAttrs;
      const internals = backend as unknown as WasmBackendInternals;
      const update = backendModuleExports(WASM_BYTES, internals).adamUpdate as AdamUpdateFn;
      const outValue = internals.makeOutput(value.shape, 'float32');
      const outM = internals.makeOutput(value.shape, 'float32');
      const outV = internals.makeOutput(value.shape, 'float32');
      const at = (t: tf.TensorInfo) => heapOffset(internals, t);
      const n = value.shape.reduce((x, y) => x * y, 1);
      // The scalars as tfjs makes them: JS numbers turned into float32 tensors.
      update(at(value), at(gradient), at(m), at(v), at(outValue), at(outM), at(outV), n,
        f(a.beta1), f(a.beta2), f(1 - a.beta1), f(1 - a.beta2), f(a.oneMinusAccBeta1), f(a.oneMinusAccBeta2), f(a.epsilon), f(-a.learningRate));
      return [outValue, outM, outV];
    },
  });
}
