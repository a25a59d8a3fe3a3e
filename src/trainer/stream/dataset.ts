// Streaming the registered partitions into training batches and an eval set.
//
// Nothing loads a whole partition: readers yield chunks of rows, a seeded shuffle buffer
// mixes them, and batches are written straight into typed arrays. Every row belongs to
// the train or the eval split by a hash of (partition, file, line) — stable as data grows,
// so an eval row is never trained on by any run of the lineage.
import path from 'node:path';
import { readTable, readCrossed, crossName, crossedLayout, DataFileError, buildVocabulary, presenceEncoding, VocabularyLookup, type CategoryEncoding, type RowChunk, type ValueCounts, type Vocabulary, type VocabularyRules } from '../../data/index.ts';
import { Rng, hashString, mixSeed, shuffled } from '../../core/rng.ts';
import { RowCache } from './row-cache.ts';

export interface TrainingPartition {
  id: string;
  /** Path relative to the data root, as registered (e.g. `dt=2026-11-26`). */
  path: string;
  /** Absolute directory. */
  dir: string;
  /** Data file names inside the directory, sorted. */
  files: string[];
  /** Rows counted at registration, when known. */
  rows: number | null;
  /**
   * Share of the partition's training rows to use, by a second row hash (replayed older
   * partitions are mixed in at a lower rate than new ones); default 1: every row.
   */
  sample?: number;
  /** An older partition mixed in to keep the model from forgetting (recorded as role `replay`). */
  replay?: boolean;
}

export interface ColumnSpec {
  /** Numeric features, standardised. */
  features: readonly string[];
  /** Categorical columns: their values become vocabulary ids, after the numeric features in a row. */
  categorical: readonly string[];
  /** Crossed columns (data/crossed-columns.ts), each of two or more categorical columns: ids after the categorical ones. */
  crosses?: ReadonlyArray<readonly string[]>;
  label: string;
  task: 'regression' | 'binary';
}

export interface SplitSpec {
  evalFraction: number;
  seed: number;
  invalidRows: 'skip' | 'reject';
}

export type Split = 'train' | 'eval';
/** Which rows a reader yields: one split, or every row (the gate's holdout partitions, which no run trained on). */
export type RowSelection = Split | 'all';

/** Standardisation statistics, computed once when a lineage starts and stored in every checkpoint. */
export interface FeatureStats {
  features: string[];
  mean: number[];
  std: number[];
  /** Training rows seen when the statistics were computed. */
  count: number;
  /** The vocabularies of the categorical columns, in column order (absent: none). */
  categorical?: Vocabulary[];
}

/** The columns read as vocabulary ids, in input order: the categorical ones, then the crossed ones (named a×b). */
export function categoricalSlots(columns: ColumnSpec): string[] {
  return [...columns.categorical, ...(columns.crosses ?? []).map(crossName)];
}

/** Values per row the model reads: the numeric features, then one id per categorical and crossed column. */
export function inputWidth(columns: ColumnSpec): number {
  return columns.features.length + categoricalSlots(columns).length;
}

/** Reads categorical columns as ids of the given vocabularies (the columns after the numeric features). */
export function vocabularyEncoding(columns: ColumnSpec, vocabularies: readonly Vocabulary[] | undefined): CategoryEncoding | undefined {
  const slots = categoricalSlots(columns);
  if (slots.length === 0) return undefined;
  const lookups = slots.map((column) => {
    const vocabulary = vocabularies?.find((v) => v.column === column);
    if (!vocabulary) throw new Error(`categorical column "${column}" has no vocabulary (the lineage was started without it: choose a new lineage name)`);
    return new VocabularyLookup(vocabulary);
  });
  const first = columns.features.length;
  return { columns: new Set(lookups.map((_, i) => first + i)), encode: (column, text) => lookups[column - first]!.id(text) };
}

/**
 * Reads categorical columns as indices into a table of the raw values seen (one table for
 * every column): a row then carries its values without committing to any vocabulary.
 */
class CategoryTable {
  readonly values: string[] = [];
  readonly #ids = new Map<string, number>();
  readonly encoding: CategoryEncoding | undefined;

  constructor(columns: ColumnSpec) {
    const first = columns.features.length;
    const slots = categoricalSlots(columns);
    this.encoding = slots.length === 0 ? undefined : { columns: new Set(slots.map((_, i) => first + i)), encode: (_column, text) => this.#id(text) };
  }

  #id(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      id = this.values.length;
      this.#ids.set(text, id);
      this.values.push(text);
    }
    return id;
  }
}

/** Counts each categorical column's values in rows read through `table`. */
function countRow(row: ArrayLike<number>, first: number, table: CategoryTable, counts: ValueCounts[]): void {
  for (let k = 0; k < counts.length; k++) {
    const value = table.values[row[first + k]!]!;
    counts[k]!.set(value, (counts[k]!.get(value) ?? 0) + 1);
  }
}

/** How often each value of each categorical column occurs in the valid training rows of `partitions` (a retrain's vocabulary growth). */
export async function countCategoryValues(partitions: readonly TrainingPartition[], columns: ColumnSpec, split: SplitSpec): Promise<ValueCounts[]> {
  const table = new CategoryTable(columns);
  const counts = categoricalSlots(columns).map((): ValueCounts => new Map());
  await forEachRow(partitions, columns, split, 'train', (row) => countRow(row, columns.features.length, table, counts), table.encoding);
  return counts;
}

/** Reads categorical columns as 0 when present (for passes that need only which rows are valid). */
function presenceOf(columns: ColumnSpec): CategoryEncoding | undefined {
  const first = columns.features.length;
  const slots = categoricalSlots(columns);
  return slots.length === 0 ? undefined : presenceEncoding(new Set(slots.map((_, i) => first + i)));
}

/** Where the training stream is: the pass, and how many rows of it were already emitted. */
export interface DataCursor {
  pass: number;
  offset: number;
}

export interface RowCounts {
  rows: number;
  invalid: number;
}

function splitOf(fileHash: number, line: number, split: SplitSpec): Split {
  return mixSeed(fileHash, line, split.seed) / 4294967296 < split.evalFraction ? 'eval' : 'train';
}

/**
 * Streams the valid rows of one split, in partition and file order, as compact chunks:
 * `values` holds, per row, the numeric features, the categorical ids (through `categories`;
 * by default 0 for any present value) then the label (raw, not standardised). The array
 * is reused: consume a chunk before asking for the next.
 * Invalid rows are counted and skipped, or throw (invalidRows: reject) naming file, line, column.
 */
export async function* validRowChunks(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  which: RowSelection,
  counts: RowCounts = { rows: 0, invalid: 0 },
  categories: CategoryEncoding | undefined = presenceOf(columns),
  cache?: RowCache,
): AsyncGenerator<{ values: Float64Array; rows: number }> {
  const names = [...columns.features, ...categoricalSlots(columns), columns.label];
  const width = names.length;
  // The columns the files hold: crossed ones are made from their sources (readCrossed).
  const crosses = columns.crosses ?? [];
  const physical = [...columns.features, ...columns.categorical, columns.label];
  const layout = crossedLayout(physical, columns.features.length + columns.categorical.length, crosses);
  let out = new Float64Array(0); // reused: each yielded chunk is consumed before the next
  for (const partition of partitions) {
    const sample = partition.sample ?? 1;
    for (const name of partition.files) {
      const file = path.join(partition.dir, name);
      const fileHash = hashString(`${partition.path}/${name}`);
      const read = (): AsyncIterable<RowChunk> =>
        crosses.length === 0 ? readTable(file, names, categories ? { categories } : {}) : readCrossed((encoding) => readTable(file, physical, { categories: encoding }), layout, categories!);
      for await (const chunk of cache ? cache.rows(file, names, read) : read()) {
        if (out.length < chunk.rowCount * width) out = new Float64Array(chunk.rowCount * width);
        let kept = 0;
        rows: for (let r = 0; r < chunk.rowCount; r++) {
          const line = chunk.lines[r]!;
          if (which !== 'all' && splitOf(fileHash, line, split) !== which) continue;
          if (sample < 1 && which === 'train' && mixSeed(fileHash, line, split.seed ^ 0x7e91a) / 4294967296 >= sample) continue;
          const base = r * width;
          for (let c = 0; c < width; c++) {
            if (!Number.isFinite(chunk.values[base + c]!)) {
              if (split.invalidRows === 'reject') throw new DataFileError(file, 'missing, NaN or infinite value', { line, column: names[c]! });
              counts.invalid += 1;
              continue rows;
            }
          }
          const label = chunk.values[base + width - 1]!;
          if (columns.task === 'binary' && label !== 0 && label !== 1) {
            if (split.invalidRows === 'reject') throw new DataFileError(file, `binary label must be 0 or 1, found ${label}`, { line, column: columns.label });
            counts.invalid += 1;
            continue;
          }
          out.set(chunk.values.subarray(base, base + width), kept * width);
          kept += 1;
        }
        counts.rows += kept;
        if (kept > 0) yield { values: out.subarray(0, kept * width), rows: kept };
      }
    }
  }
}

/** Calls `onRow` for every valid row of a split (the row array is reused); `false` stops early. */
export async function forEachRow(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  which: RowSelection,
  onRow: (values: Float64Array) => void | false,
  categories?: CategoryEncoding,
): Promise<RowCounts> {
  const counts = { rows: 0, invalid: 0 };
  const width = inputWidth(columns) + 1;
  for await (const chunk of validRowChunks(partitions, columns, split, which, counts, categories ?? presenceOf(columns))) {
    for (let r = 0; r < chunk.rows; r++) {
      if (onRow(chunk.values.subarray(r * width, r * width + width)) === false) return counts;
    }
  }
  return counts;
}

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
function standardise(row: ArrayLike<number>, stats: FeatureStats, out: Float32Array, offset: number, ids = 0): void {
  const numeric = stats.mean.length;
  for (let c = 0; c < numeric; c++) out[offset + c] = (row[c]! - stats.mean[c]!) / stats.std[c]!;
  for (let c = numeric; c < numeric + ids; c++) out[offset + c] = row[c]!;
}

export interface EvalSet {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  dim: number;
  partitionIds: string[];
  /**
   * With categorical columns: the raw values, and x holds an index into this table in each
   * categorical slot (after the `dim - categoryValues columns` numeric ones), so that each
   * model reads the rows through its own vocabulary (encodeEvalSet): a champion and a
   * candidate whose vocabularies differ are scored on the same rows as each would serve them.
   */
  categoryValues?: string[];
  categoricalColumns?: number;
}

/** The eval set as a model with these vocabularies reads it (raw category values → its ids); the set itself without categorical columns. */
export function encodeEvalSet(set: EvalSet, vocabularies: readonly Vocabulary[] | undefined): EvalSet {
  const values = set.categoryValues;
  const k = set.categoricalColumns ?? 0;
  if (!values || k === 0) return set;
  if (!vocabularies || vocabularies.length !== k) throw new Error(`the eval set has ${k} categorical columns; the model has ${vocabularies?.length ?? 0} vocabularies`);
  const ids = vocabularies.map((v) => {
    const lookup = new VocabularyLookup(v);
    return Float32Array.from(values, (value) => lookup.id(value));
  });
  const x = set.x.slice();
  const first = set.dim - k;
  for (let r = 0; r < set.rows; r++) {
    for (let c = 0; c < k; c++) x[r * set.dim + first + c] = ids[c]![set.x[r * set.dim + first + c]!]!;
  }
  return { x, y: set.y, rows: set.rows, dim: set.dim, partitionIds: set.partitionIds };
}

/**
 * Loads (at most `maxRows`) rows into memory, standardised with the lineage's statistics:
 * by default the eval split (validation), or `all` rows (the gate's holdout partitions).
 * Categorical values stay raw (categoryValues); encodeEvalSet() gives a model's ids.
 */
export async function loadEvalSet(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  stats: FeatureStats,
  maxRows: number,
  which: 'eval' | 'all' = 'eval',
): Promise<EvalSet> {
  const dim = inputWidth(columns);
  const ids = categoricalSlots(columns).length;
  const table = new CategoryTable(columns);
  let x = new Float32Array(Math.min(maxRows, 4096) * dim);
  let y = new Float32Array(Math.min(maxRows, 4096));
  let rows = 0;
  await forEachRow(partitions, columns, split, which, (row) => {
    if (rows === y.length) {
      const grown = Math.min(maxRows, y.length * 2);
      const nx = new Float32Array(grown * dim);
      nx.set(x);
      const ny = new Float32Array(grown);
      ny.set(y);
      x = nx;
      y = ny;
    }
    standardise(row, stats, x, rows * dim, ids);
    y[rows] = row[dim]!;
    rows += 1;
    if (rows >= maxRows) return false;
  }, table.encoding);
  const set: EvalSet = { x: x.subarray(0, rows * dim), y: y.subarray(0, rows), rows, dim, partitionIds: partitions.map((p) => p.id) };
  return ids > 0 ? { ...set, categoryValues: table.values, categoricalColumns: ids } : set;
}

export interface Batch {
  x: Float32Array;
  y: Float32Array;
  /** The cursor after this batch: where a resumed stream continues. */
  cursor: DataCursor;
}

export interface TrainStreamOptions {
  columns: ColumnSpec;
  split: SplitSpec;
  stats: FeatureStats;
  batchSize: number;
  shuffleBuffer: number;
  /** Counts of invalid rows skipped, for the run's report. */
  counts?: RowCounts;
  /** Where the stream keeps its parsed rows between passes (row-cache.ts); unset: every pass parses. */
  cacheDir?: string;
}

/**
 * An endless stream of training batches: pass after pass over the partitions, each pass
 * with its own seeded partition order and shuffle, so (seed, pass, offset) pins down the
 * stream exactly and a resumed run sees the same batches as one that never stopped.
 */
export async function* trainBatches(partitions: readonly TrainingPartition[], options: TrainStreamOptions, from: DataCursor): AsyncGenerator<Batch> {
  const { columns, split, stats, batchSize } = options;
  const dim = inputWidth(columns);
  const ids = categoricalSlots(columns).length;
  const categories = vocabularyEncoding(columns, stats.categorical);
  const cache = options.cacheDir ? new RowCache(options.cacheDir) : undefined;
  const width = dim + 1;
  const capacity = Math.max(1, options.shuffleBuffer);
  const buffer = new Float32Array(capacity * width);
  let bx = new Float32Array(batchSize * dim);
  let by = new Float32Array(batchSize);
  let filled = 0;
  for (let pass = from.pass; ; pass++) {
    const rng = new Rng(mixSeed(split.seed, pass, 0x5eed));
    const order = shuffled(partitions, rng);
    let buffered = 0;
    let emitted = 0;
    let produced = 0;
    const skip = pass === from.pass ? from.offset : 0;
    const ready: Batch[] = [];
    const emit = (slot: number): void => {
      emitted += 1;
      if (emitted <= skip) return;
      bx.set(buffer.subarray(slot * width, slot * width + dim), filled * dim);
      by[filled] = buffer[slot * width + dim]!;
      filled += 1;
      if (filled === batchSize) {
        ready.push({ x: bx, y: by, cursor: { pass, offset: emitted } });
        bx = new Float32Array(batchSize * dim);
        by = new Float32Array(batchSize);
        filled = 0;
      }
    };
    const counts = pass === from.pass && options.counts ? options.counts : { rows: 0, invalid: 0 };
    for await (const chunk of validRowChunks(order, columns, split, 'train', counts, categories, cache)) {
      for (let r = 0; r < chunk.rows; r++) {
        const row = chunk.values.subarray(r * width, r * width + width);
        produced += 1;
        let slot = buffered;
        if (buffered < capacity) buffered += 1;
        else {
          slot = rng.int(capacity);
          emit(slot);
        }
        standardise(row, stats, buffer, slot * width, ids);
        buffer[slot * width + dim] = row[dim]!;
      }
      // Hand out finished batches chunk by chunk: memory stays bounded by the buffer.
      yield* ready.splice(0);
    }
    if (produced === 0) throw new Error('no valid training rows in the partitions');
    // Drain: emit what is left in random order.
    while (buffered > 0) {
      const slot = rng.int(buffered);
      emit(slot);
      buffered -= 1;
      if (slot !== buffered) buffer.copyWithin(slot * width, buffered * width, buffered * width + width);
    }
    yield* ready.splice(0);
  }
}
