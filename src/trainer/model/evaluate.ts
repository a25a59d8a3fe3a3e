// Scoring a model on held-out rows: predictions in batches (no dropout), the validation
// loss (the training loss function on those rows) and the task's metrics.
import type { ResolvedConfig } from '../../core/config.ts';
import { tf } from '../backend.ts';
import { trainingSpec } from '../run/training-spec.ts';
import type { Vocabulary } from '../../data/index.ts';
import { encodeEvalSet, type EvalSet } from '../stream/eval-set.ts';
import { evaluateAll } from '../../core/eval-metrics.ts';
import { predictRows } from './predict-rows.ts';

/**
 * Predictions for the eval set, in batches of 8,192 rows, without dropout. `vocabularies`:
 * the model's own (its checkpoint's), through which categorical values are read.
 */
export function predict(model: tf.LayersModel, rawSet: EvalSet, vocabularies?: readonly Vocabulary[]): Float32Array {
  const evalSet = encodeEvalSet(rawSet, vocabularies);
  const out = new Float32Array(evalSet.rows);
  const batch = 8192;
  for (let start = 0; start < evalSet.rows; start += batch) {
    const rows = Math.min(batch, evalSet.rows - start);
    const x = tf.tensor2d(evalSet.x.subarray(start * evalSet.dim, (start + rows) * evalSet.dim), [rows, evalSet.dim]);
    try {
      out.set(predictRows(model, x), start);
    } finally {
      x.dispose();
    }
  }
  return out;
}

/** Validation loss and the task's metrics; NaN and none for an empty eval set. */
export function evaluateModel(model: tf.LayersModel, evalSet: EvalSet, config: ResolvedConfig, vocabularies?: readonly Vocabulary[]): { valLoss: number; metrics: Record<string, number> } {
  if (evalSet.rows === 0) return { valLoss: Number.NaN, metrics: {} };
  const metrics = evaluateAll(config.model.task, evalSet.y, predict(model, evalSet, vocabularies));
  const valLoss = metrics[trainingSpec(config).loss.name]!;
  return { valLoss, metrics };
}

/** The model's weights as bytes, in model.weights order (what exact-resume tests compare). */
export function weightBytes(model: tf.LayersModel): Uint8Array {
  const parts = model.getWeights().map((w) => new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
