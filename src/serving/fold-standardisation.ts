// An export that takes raw inputs: the standardisation x' = (x − μ) / σ is folded into the
// first Dense layer, exactly: with W the kernel rows of the numeric features,
//   W' = W / σ (each row by its feature's σ),  b' = b − Σᵢ (μᵢ / σᵢ) · Wᵢ
// so x'·W + b = x·W' + b'. Plain tf.loadLayersModel + predict then works on raw numeric
// features (and, with categorical columns, on vocabulary ids). Done in float64, rounded
// once to float32: the folded model agrees with the standardising path to float32 rounding.
import { tf } from '../trainer/index.ts';

/** Folds the statistics into layer `dense_0` of the built-in MLP (its first rows read the numeric features); false when the model has none. */
export function foldStandardisation(model: tf.LayersModel, stats: { mean: readonly number[]; std: readonly number[] }): boolean {
  const layer = model.layers.find((l) => l.name === 'dense_0');
  if (!layer) return false;
  const [kernel, bias] = layer.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const [inputs, units] = kernel.shape;
  const w = Float64Array.from(kernel.dataSync());
  const b = Float64Array.from(bias.dataSync());
  const numeric = stats.mean.length;
  if (numeric > inputs) throw new Error(`dense_0 reads ${inputs} inputs, fewer than the ${numeric} numeric features`);
  for (let i = 0; i < numeric; i++) {
    const sigma = stats.std[i]!;
    const shift = stats.mean[i]! / sigma;
    for (let u = 0; u < units; u++) {
      b[u] = b[u]! - shift * w[i * units + u]!;
      w[i * units + u] = w[i * units + u]! / sigma;
    }
  }
  layer.setWeights([tf.tensor2d(Float32Array.from(w), [inputs, units]), tf.tensor1d(Float32Array.from(b))]);
  return true;
}
