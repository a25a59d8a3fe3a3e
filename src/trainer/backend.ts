// TensorFlow.js backend selection. @tensorflow/tfjs-node is never a dependency (its install
// script downloads libtensorflow, which fails offline); `auto` uses it when it is installed
// and otherwise the WASM backend, whose .wasm binaries ship inside its npm package.
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from '../core/log.ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);
let initialised: Promise<string> | undefined;
let initialisedFor: BackendChoice | undefined;

async function useWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // The package's dist/ folder holds tfjs-backend-wasm{,-simd,-threaded-simd}.wasm.
  wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WASM backend failed to initialise');
  // Imported here, not at the top: the kernels' modules import this one.
  (await import('./wasm-segment-sum.ts')).registerWasmSegmentSum();
  (await import('./wasm-adam-update.ts')).registerWasmAdamUpdate();
  (await import('./wasm-gather.ts')).registerWasmGather();
  (await import('./wasm-copy-kernels.ts')).registerWasmCopyKernels();
  (await import('./wasm-relu-mask.ts')).registerWasmReluMask();
  (await import('./wasm-identity.ts')).registerWasmIdentity();
  (await import('./wasm-transpose.ts')).registerWasmTranspose();
  (await import('./wasm-column-sums.ts')).registerWasmColumnSums();
}

async function tryTensorflow(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-node' as string);
  } catch {
    return false;
  }
  return tf.setBackend('tensorflow');
}

async function select(choice: BackendChoice): Promise<string> {
  if (choice === 'tensorflow') {
    if (!(await tryTensorflow())) {
      throw new Error('backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed (see the README); use "auto" or "wasm"');
    }
  } else if (choice === 'auto') {
    if (!(await tryTensorflow())) await useWasm();
  } else if (choice === 'wasm') {
    await useWasm();
  } else if (!(await tf.setBackend('cpu'))) {
    throw new Error('the tfjs cpu backend failed to initialise');
  }
  await tf.ready();
  return tf.getBackend();
}

/**
 * Initialises the backend once per process and returns its name. tfjs has one global
 * engine, so asking for a different backend later is an error rather than a silent switch.
 */
export async function initBackend(choice: BackendChoice, log?: Logger): Promise<string> {
  if (initialised) {
    if (initialisedFor !== choice) throw new Error(`tfjs backend already initialised as ${initialisedFor}; cannot switch to ${choice} in the same process`);
    return initialised;
  }
  initialisedFor = choice;
  initialised = select(choice);
  const name = await initialised;
  log?.info({ backend: name, requested: choice }, 'tfjs backend ready');
  return name;
}

export { tf };
