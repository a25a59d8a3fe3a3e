// The bytes of named weight tensors in tfjs's weights format (tf.io.encodeWeights: each
// tensor's values in order, float32 or int32 little-endian, no padding), as one view per
// tensor instead of one joined copy.
//
// Why: tfjs's `save` and `encodeWeights` copy every tensor out of the backend and then
// join the copies into one more buffer; for a 12 MB checkpoint that was 10–20 ms of a
// 45–80 ms write (bench:train, checkpoint). On the WASM backend the views are the
// tensors' own bytes on the WASM heap: no copy at all.
import { tf } from '../backend.ts';

export interface WeightBytes {
  /** The weights manifest entries, as encodeWeights writes them. */
  specs: tf.io.WeightsManifestEntry[];
  /** Each tensor's bytes, in the order of `specs`. */
  pieces: Uint8Array[];
}

interface WasmHeap {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
}

/**
 * Views of the tensors' bytes. On the WASM backend they point into the backend's heap and
 * are valid only until the next tfjs operation (which may move or reuse that memory):
 * use them synchronously, at once. Other backends get one copy per tensor.
 */
export function weightBytes(named: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): WeightBytes {
  const heap = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeap) : undefined;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const pieces: Uint8Array[] = [];
  for (const { name, tensor } of named) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new Error(`weight ${name}: dtype ${tensor.dtype} is not float32 or int32`);
    const values = heap ? heap.typedArrayFromHeap(tensor) : (tensor.dataSync() as Float32Array | Int32Array);
    if (values.length !== tensor.size) throw new Error(`weight ${name}: ${values.length} values read for ${tensor.size}`);
    specs.push({ name, shape: tensor.shape, dtype: tensor.dtype });
    pieces.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { specs, pieces };
}

/** A LayersModel's weights as tfjs's `save` names them (`<layer>/<weight>`), in model.weights order. */
export function namedModelWeights(model: tf.LayersModel): Array<{ name: string; tensor: tf.Tensor }> {
  return model.weights.map((weight) => ({ name: weight.originalName, tensor: weight.read() }));
}

/** model.json of a tfjs LayersModel (what tf.loadLayersModel reads) for weights in weights.bin. */
export function layersModelJson(model: tf.LayersModel, specs: tf.io.WeightsManifestEntry[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: model.toJSON(null, false),
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    ...extra,
  });
}
