// The statistics a lineage starts with (standardisation, vocabularies, the training-row
// count), the training labels (for the naive baselines), and standardising a row.
import { buildVocabulary, type ValueCounts, type VocabularyRules } from '../../data/index.ts';
import { CategoryTable, countRow } from './category-values.ts';
import { type TrainingPartition, type ColumnSpec, type SplitSpec, type FeatureStats, categoricalSlots, inputWidth } from './stream-spec.ts';
import { forEachRow } from './valid-rows.ts';

/**
 * Mean and standard deviation of each numeric feature over the training split (Welford,
 * one pass), and the vocabulary of each categorical column from the same rows.
 */
export async function computeFeatureStats(partitions: readonly TrainingPartition[], columns: ColumnSpec, split: SplitSpec, rules?: VocabularyRules): Promise<FeatureStats> {
  const dim = columns.features.length;
  const mean = new Float64Array(dim);
  const m2 = new Float64Array(dim);
  let n = 0;
  const slots = categoricalSlots(columns);
  const table = new CategoryTable(columns);
  const valueCounts = slots.map((): ValueCounts => new Map());
  await forEachRow(partitions, columns, split, 'train', (row) => {
    n += 1;
    for (let c = 0; c < dim; c++) {
      const delta = row[c]! - mean[c]!;
      mean[c] = mean[c]! + delta / n;
      m2[c] = m2[c]! + delta * (row[c]! - mean[c]!);
    }
    countRow(row, dim, table, valueCounts);
  }, table.encoding);
  const std = Array.from(m2, (s) => {
    const sd = n > 1 ? Math.sqrt(s / (n - 1)) : 0;
    return sd > 1e-12 ? sd : 1; // a constant feature: leave it centred, unscaled
  });
  const stats: FeatureStats = { features: [...columns.features], mean: Array.from(mean), std, count: n };
  if (slots.length > 0) {
    if (!rules) throw new Error('categorical columns need vocabulary rules (columns.vocabulary)');
    stats.categorical = slots.map((column, k) => buildVocabulary(column, valueCounts[k]!, rules));
  }
  return stats;
}

/**
 * The labels of the training rows of `partitions` (replayed ones sampled as training
 * samples them): what the naive baselines are computed from.
 */
export async function trainingLabels(partitions: readonly TrainingPartition[], columns: ColumnSpec, split: SplitSpec): Promise<Float64Array> {
  let labels = new Float64Array(4096);
  let n = 0;
  const dim = inputWidth(columns);
  await forEachRow(partitions, columns, split, 'train', (row) => {
    if (n === labels.length) {
      const grown = new Float64Array(labels.length * 2);
      grown.set(labels);
      labels = grown;
    }
    labels[n++] = row[dim]!;
  });
  return labels.subarray(0, n);
}

/** Writes a model input into `out` at `offset`: the numeric features standardised, then the `ids` categorical ids as they are. */
export function standardise(row: ArrayLike<number>, stats: FeatureStats, out: Float32Array, offset: number, ids = 0): void {
  const numeric = stats.mean.length;
  for (let c = 0; c < numeric; c++) out[offset + c] = (row[c]! - stats.mean[c]!) / stats.std[c]!;
  for (let c = numeric; c < numeric + ids; c++) out[offset + c] = row[c]!;
}
