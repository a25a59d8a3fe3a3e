// What a model reads: the numeric features (standardised), then one vocabulary id per
// categorical column. The trainer and the eval sets hold both in one matrix, row by row;
// a model with categorical columns takes them as separate inputs (numeric first, then one
// [batch, 1] id input per column, in column order), the layout Keras users know from
// embedding models, and modelInputs() cuts the matrix into those inputs.
import { tf } from '../backend.ts';
import { vocabularySize } from '../../data/index.ts';
import type { FeatureStats } from '../stream/stream-spec.ts';

export interface CategoricalInput {
  column: string;
  /** Rows of the embedding: out-of-vocabulary buckets plus the vocabulary. */
  size: number;
  embeddingDim: number;
}

export interface InputLayout {
  numeric: number;
  categorical: CategoricalInput[];
}

/** The layout a model of this lineage (or checkpoint) has, from its statistics and vocabularies. */
export function inputLayout(stats: FeatureStats): InputLayout {
  return {
    numeric: stats.mean.length,
    categorical: (stats.categorical ?? []).map((v) => ({ column: v.column, size: vocabularySize(v), embeddingDim: v.embeddingDim })),
  };
}

/** Values per row: the numeric features and one id per categorical column. */
export function layoutWidth(layout: InputLayout): number {
  return layout.numeric + layout.categorical.length;
}

/** The model's inputs from a [rows, numeric + categorical] matrix: the matrix itself for a one-input model. */
export function modelInputs(model: tf.LayersModel, x: tf.Tensor2D): tf.Tensor | tf.Tensor[] {
  if (model.inputs.length === 1) return x;
  let offset = 0;
  return model.inputs.map((input) => {
    const width = input.shape[1] ?? 1;
    const part = tf.slice(x, [0, offset], [-1, width]);
    offset += width;
    return part;
  });
}
