// Vocabularies of categorical columns: which values a column's embedding has a row for.
//
// Ids are laid out so that a vocabulary can only grow by appending: ids 0 … oovBuckets-1
// are the out-of-vocabulary buckets (a value outside the vocabulary goes to bucket
// FNV-1a(value) mod oovBuckets), and the vocabulary's values follow in the order they
// joined it. A grown vocabulary keeps every old id, so a model's existing embedding rows
// (and their optimizer moments) stay where they are and new rows are appended.

/** One categorical column's vocabulary, as stored on the lineage, in every checkpoint and in the serving export. */
export interface Vocabulary {
  column: string;
  /** Values in id order: `tokens[i]` has id `oovBuckets + i`. */
  tokens: string[];
  oovBuckets: number;
  /** Embedding size of the column in the built-in MLP. */
  embeddingDim: number;
}

export interface VocabularyRules {
  minCount: number;
  maxTokens: number;
  oovBuckets: number;
  /** 0: the size rule (embeddingDimFor). */
  embeddingDim: number;
}

/** Rows of the column's embedding: the buckets plus the values. */
export function vocabularySize(vocabulary: Vocabulary): number {
  return vocabulary.oovBuckets + vocabulary.tokens.length;
}

/**
 * The embedding size rule: ceil(2 · size^0.25), clamped to 2..32 — the fourth-root rule of
 * thumb (Google's ML guides), doubled so that small vocabularies get room: 10 values → 4,
 * 300 → 9, 10,000 → 20. Fixed when the lineage starts (a grown vocabulary keeps its size).
 */
export function embeddingDimFor(size: number): number {
  return Math.min(32, Math.max(2, Math.ceil(2 * size ** 0.25)));
}

/** FNV-1a (32 bit) of the value's UTF-8 bytes: the out-of-vocabulary bucket hash, documented for consumers of the export. */
export function fnv1a32(value: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(value, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Counts of each value of one column (what a vocabulary is chosen from). */
export type ValueCounts = Map<string, number>;

/**
 * The values that join a vocabulary: those counted at least `minCount` times and not in it
 * yet, most frequent first (ties in code-unit order, so the same data gives the same ids on
 * every machine), up to `maxTokens` in all.
 */
export function frequentNewValues(counts: ValueCounts, known: ReadonlySet<string>, rules: Pick<VocabularyRules, 'minCount' | 'maxTokens'>, alreadyKept: number): string[] {
  const room = Math.max(0, rules.maxTokens - alreadyKept);
  return [...counts]
    .filter(([value, count]) => count >= rules.minCount && !known.has(value))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, room)
    .map(([value]) => value);
}

/** A new vocabulary from a column's value counts (when a lineage starts). */
export function buildVocabulary(column: string, counts: ValueCounts, rules: VocabularyRules): Vocabulary {
  const tokens = frequentNewValues(counts, new Set(), rules, 0);
  return { column, tokens, oovBuckets: rules.oovBuckets, embeddingDim: rules.embeddingDim || embeddingDimFor(rules.oovBuckets + tokens.length) };
}

/** The vocabulary with the values that became frequent appended (a retrain's growth); the same object when none did. */
export function growVocabulary(vocabulary: Vocabulary, counts: ValueCounts, rules: Pick<VocabularyRules, 'minCount' | 'maxTokens'>): Vocabulary {
  const added = frequentNewValues(counts, new Set(vocabulary.tokens), rules, vocabulary.tokens.length);
  return added.length === 0 ? vocabulary : { ...vocabulary, tokens: [...vocabulary.tokens, ...added] };
}

/** value → id for one vocabulary. */
export class VocabularyLookup {
  readonly #ids: Map<string, number>;
  readonly #buckets: number;

  constructor(vocabulary: Vocabulary) {
    this.#buckets = vocabulary.oovBuckets;
    this.#ids = new Map(vocabulary.tokens.map((token, i) => [token, vocabulary.oovBuckets + i]));
  }

  id(value: string): number {
    return this.#ids.get(value) ?? fnv1a32(value) % this.#buckets;
  }

  /** Whether an id is an out-of-vocabulary bucket: a value the model never saw in training. */
  isOutOfVocabulary(id: number): boolean {
    return id < this.#buckets;
  }
}
