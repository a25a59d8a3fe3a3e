// Vocabularies that grow: a retrain adds the values that became frequent in its fresh
// partitions to its base checkpoint's vocabularies, and the base's embedding tables grow
// with them. Existing rows and their Adam moments are kept (ids only grow by appending);
// Keras's warmstart_embedding_matrix does the same, with an initializer for the new rows.
// Here a new value's row starts as a copy of the out-of-vocabulary bucket row the value
// was read through until now, so at step 0 the candidate predicts exactly as its base on
// every row, and only training moves the new row away; its moments start at zero.
import { fnv1a32, growVocabulary, type ValueCounts, type Vocabulary, type VocabularyRules } from '../../data/index.ts';
import { tf } from '../backend.ts';
import type { LoadedCheckpoint } from './checkpoint-io.ts';

export interface VocabularyGrowth {
  column: string;
  /** Vocabulary sizes (values, not counting the buckets) before and after. */
  from: number;
  to: number;
  added: string[];
}

/** Each column's vocabulary grown by the values frequent in `counts` (per column, in order). */
export function growVocabularies(vocabularies: readonly Vocabulary[], counts: readonly ValueCounts[], rules: Pick<VocabularyRules, 'minCount' | 'maxTokens'>): { vocabularies: Vocabulary[]; growth: VocabularyGrowth[] } {
  const grown = vocabularies.map((v, k) => growVocabulary(v, counts[k] ?? new Map(), rules));
  const growth = grown
    .map((v, k) => ({ column: v.column, from: vocabularies[k]!.tokens.length, to: v.tokens.length, added: v.tokens.slice(vocabularies[k]!.tokens.length) }))
    .filter((g) => g.to > g.from);
  return { vocabularies: grown, growth };
}

/** Rows for the new values: each a copy of its old OOV bucket's row (or zeros, for moments). */
function grownTable(table: tf.Tensor, before: Vocabulary, after: Vocabulary, newRows: 'bucket' | 'zeros'): tf.Tensor {
  return tf.tidy(() => {
    const added = after.tokens.slice(before.tokens.length);
    if (added.length === 0) return table.clone();
    const rows =
      newRows === 'zeros'
        ? tf.zeros([added.length, table.shape[1]!])
        : tf.gather(table, tf.tensor1d(added.map((value) => fnv1a32(value) % before.oovBuckets), 'int32'));
    return tf.concat([table, rows], 0);
  });
}

/**
 * A base checkpoint with its embedding tables (model weights `embedding_<k>/embeddings`)
 * and their Adam moments (`…/m`, `…/v`) grown to the new vocabularies. The loaded
 * tensors it replaces are disposed.
 */
export function growCheckpoint(loaded: LoadedCheckpoint, before: readonly Vocabulary[], after: readonly Vocabulary[]): LoadedCheckpoint {
  const tableIndex = (name: string): number => {
    const match = /^embedding_(\d+)\/embeddings(?:_\d+)?(\/[mv])?$/.exec(name);
    return match ? Number(match[1]) : -1;
  };
  const weights = loaded.weights.map((tensor, i) => {
    const k = tableIndex(loaded.weightNames[i]!);
    if (k < 0 || before[k]!.tokens.length === after[k]!.tokens.length) return tensor;
    const grown = grownTable(tensor, before[k]!, after[k]!, 'bucket');
    tensor.dispose();
    return grown;
  });
  const optimizerWeights = loaded.optimizerWeights.map(({ name, tensor }) => {
    const k = tableIndex(name);
    if (k < 0 || !/\/[mv]$/.test(name) || before[k]!.tokens.length === after[k]!.tokens.length) return { name, tensor };
    const grown = grownTable(tensor, before[k]!, after[k]!, 'zeros');
    tensor.dispose();
    return { name, tensor: grown };
  });
  const stillMissing = after.some((v, k) => v.tokens.length !== before[k]!.tokens.length && !loaded.weightNames.some((n) => tableIndex(n) === k));
  if (stillMissing) throw new Error('the base checkpoint has no embedding table for a categorical column whose vocabulary grew (a user model: vocabularies grow with the built-in MLP only)');
  return { ...loaded, weights, optimizerWeights, state: { ...loaded.state, featureStats: { ...loaded.state.featureStats, categorical: [...after] } } };
}
