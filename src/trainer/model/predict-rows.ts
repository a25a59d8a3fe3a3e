// A model's predictions for one [rows, width] matrix, as one batch.
//
// Why not `model.predict(x)`: tfjs-layers cuts its input into batches of 32 rows by
// default (predictLoop), and each cut is a slice kernel that on the WASM backend copies
// the *whole* input out of the WASM heap first (tfjs-backend-wasm 4.22 slice: readSync of
// x, then the rows it wants). Scoring 8,192 rows was 256 such copies of 8,192 rows: 36 %
// of a flights backtest's time went to predictions, a quarter of that to those copies
// (profiled 2026-12-06, BENCHMARKS.md › Retrains three times faster). One batch of all
// the rows runs the same kernels on the same rows; each row's output is computed the same
// way (checked bit for bit on the flights models, test/predict-rows.test.ts).
import { tf } from '../backend.ts';
import { modelInputs } from './input-layout.ts';

/** Predictions (no dropout) for every row of `x`, read back. Callers bound `rows` (the eval sets use 8,192 at a time). */
export function predictRows(model: tf.LayersModel, x: tf.Tensor2D): Float32Array {
  const rows = x.shape[0];
  return tf.tidy(() => (model.predict(modelInputs(model, x), { batchSize: Math.max(1, rows) }) as tf.Tensor).dataSync() as Float32Array);
}
