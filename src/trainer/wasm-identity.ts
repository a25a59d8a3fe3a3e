// Identity (tf.clone) on the WASM backend as a second reference to the same memory, as
// tfjs's CPU backend does it and as the WASM backend's own reshape does.
//
// Why: tfjs's engine clones every tensor it saves for the backward pass (each kernel's
// saved inputs and outputs, and what a custom gradient saves), and tfjs-backend-wasm 4.22's
// Identity copies the values: a dozen copies of batch-sized tensors at every training step,
// 4 % of the step. Sharing is safe because no kernel writes into its inputs (freshet's
// own included: every output is a new allocation); the memory is freed when the last
// reference is disposed (the backend counts them). The values are the same, so the bits.
import { tf } from './backend.ts';
import { overrideWasmKernel } from './wasm-kernel-override.ts';

interface ReferenceCounting {
  incRef(dataId: tf.DataId): void;
}

export function registerWasmIdentity(): void {
  overrideWasmKernel(tf.Identity, ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return undefined;
    (backend as unknown as ReferenceCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
