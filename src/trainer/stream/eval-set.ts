// The eval set: validation (or gate) rows in memory, standardised, with their raw category
// values so that each model reads them through its own vocabulary.
import { VocabularyLookup, type Vocabulary } from '../../data/index.ts';
import { Rng } from '../../core/rng.ts';
import { CategoryTable } from './category-values.ts';
import { standardise } from './feature-stats.ts';
import { type TrainingPartition, type ColumnSpec, type SplitSpec, type FeatureStats, categoricalSlots, inputWidth } from './stream-spec.ts';
import { presenceOf, validRowChunks, type SideColumns } from './valid-rows.ts';

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
  /** With side columns asked for (the gate's baselines): each row's partition (index into partitionIds) and side values. */
  side?: EvalSetSide;
  /** Set when the rows are a sample (more than loadEvalSet's maxRows): how many valid rows there were to draw from. */
  sampledFrom?: number;
}

export interface EvalSetSide {
  partition: Int32Array;
  /** Per side column (in the order asked), its value in each row: an id through SideColumns.encode for textual ones, else the number; NaN when missing. */
  columns: Float64Array[];
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
 * One categorical column's raw value per row of an (unencoded) eval set, as an index into
 * the set's value table: what the gate's slices group rows by. Slot `k`: the column's place
 * among the categorical (then crossed) columns.
 */
export function categoricalColumnValues(set: EvalSet, k: number): { rowValues: Int32Array; names: readonly string[] } {
  const columns = set.categoricalColumns ?? 0;
  if (!set.categoryValues || k < 0 || k >= columns) throw new Error(`the eval set has ${columns} categorical columns; asked for slot ${k}`);
  const first = set.dim - columns;
  return { rowValues: Int32Array.from({ length: set.rows }, (_, r) => set.x[r * set.dim + first + k]!), names: set.categoryValues };
}

/** Seeds the sample beyond `maxRows`: fixed, so a gate decided again on the same partitions scores the same rows. */
const SPREAD_SEED = 0x5eed_9a7e;

/**
 * Loads (at most `maxRows`) rows into memory, standardised with the lineage's statistics:
 * by default the eval split (validation), or `all` rows (the gate's holdout partitions).
 * Categorical values stay raw (categoryValues); encodeEvalSet() gives a model's ids.
 *
 * Beyond `maxRows`, a uniform random sample of all the rows (reservoir sampling, Vitter's
 * algorithm R, with a fixed seed, so the same partitions give the same rows), put back in
 * the order they were read (the bootstrap's time blocks need it). Not the first rows: those
 * are the oldest partition's, and the newest — what the gate is about, and what early
 * stopping should not ignore — would go unscored (BENCHMARKS.md › The gate's rows beyond
 * `training.evalMaxRows`; › How much two days can foretell a week, for validation).
 */
export async function loadEvalSet(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  stats: FeatureStats,
  maxRows: number,
  which: 'eval' | 'all' = 'eval',
  side?: SideColumns,
): Promise<EvalSet> {
  const dim = inputWidth(columns);
  const ids = categoricalSlots(columns).length;
  const table = new CategoryTable(columns);
  const sideWidth = side?.names.length ?? 0;
  let x = new Float32Array(Math.min(maxRows, 4096) * dim);
  let y = new Float32Array(Math.min(maxRows, 4096));
  let partitionOf = new Int32Array(side ? y.length : 0);
  let sideValues = new Float64Array(side ? y.length * sideWidth : 0);
  let order = new Float64Array(y.length); // each kept row's place among all valid rows, to put the sample back in order
  const rng = new Rng(SPREAD_SEED);
  let rows = 0; // rows held
  let seen = 0; // valid rows read
  const width = dim + 1;
  for await (const chunk of validRowChunks(partitions, columns, split, which, { rows: 0, invalid: 0 }, table.encoding ?? presenceOf(columns), undefined, side)) {
    for (let r = 0; r < chunk.rows; r++) {
      let slot = rows;
      if (rows >= maxRows) {
        slot = rng.int(seen + 1); // Algorithm R: the (seen+1)-th row replaces a kept one with probability maxRows / (seen+1)
        if (slot >= maxRows) {
          seen += 1;
          continue;
        }
      } else if (rows === y.length) {
        const grown = Math.min(maxRows, y.length * 2);
        x = grownCopy(x, grown * dim);
        y = grownCopy(y, grown);
        if (side) {
          partitionOf = grownCopy(partitionOf, grown);
          sideValues = grownCopy(sideValues, grown * sideWidth);
        }
        order = grownCopy(order, grown);
      }
      const row = chunk.values.subarray(r * width, r * width + width);
      standardise(row, stats, x, slot * dim, ids);
      y[slot] = row[dim]!;
      if (side) {
        partitionOf[slot] = chunk.partition;
        sideValues.set(chunk.side!.subarray(r * sideWidth, (r + 1) * sideWidth), slot * sideWidth);
      }
      order[slot] = seen;
      if (slot === rows) rows += 1;
      seen += 1;
    }
  }
  const sampled = seen > rows;
  if (sampled) ({ x, y, partitionOf, sideValues } = inRowOrder(order.subarray(0, rows), { x, y, partitionOf, sideValues }, { dim, sideWidth, side: side !== undefined }));
  const set: EvalSet = { x: x.subarray(0, rows * dim), y: y.subarray(0, rows), rows, dim, partitionIds: partitions.map((p) => p.id), ...(sampled ? { sampledFrom: seen } : {}) };
  if (side) {
    set.side = {
      partition: partitionOf.subarray(0, rows),
      columns: side.names.map((_, j) => Float64Array.from({ length: rows }, (_, r) => sideValues[r * sideWidth + j]!)),
    };
  }
  return ids > 0 ? { ...set, categoryValues: table.values, categoricalColumns: ids } : set;
}

type ReservoirArrays = { x: Float32Array<ArrayBuffer>; y: Float32Array<ArrayBuffer>; partitionOf: Int32Array<ArrayBuffer>; sideValues: Float64Array<ArrayBuffer> };

/** A reservoir's rows put back in the order they were read (`order`: each held slot's place among all rows, one per slot). */
function inRowOrder(
  order: Float64Array,
  arrays: ReservoirArrays,
  { dim, sideWidth, side }: { dim: number; sideWidth: number; side: boolean },
): ReservoirArrays {
  const n = order.length;
  const slots = Array.from({ length: n }, (_, i) => i).sort((a, b) => order[a]! - order[b]!);
  const x = new Float32Array(n * dim);
  const y = new Float32Array(n);
  const partitionOf = new Int32Array(side ? n : 0);
  const sideValues = new Float64Array(side ? n * sideWidth : 0);
  slots.forEach((slot, i) => {
    x.set(arrays.x.subarray(slot * dim, (slot + 1) * dim), i * dim);
    y[i] = arrays.y[slot]!;
    if (side) {
      partitionOf[i] = arrays.partitionOf[slot]!;
      sideValues.set(arrays.sideValues.subarray(slot * sideWidth, (slot + 1) * sideWidth), i * sideWidth);
    }
  });
  return { x, y, partitionOf, sideValues };
}

function grownCopy<T extends Float32Array | Float64Array | Int32Array>(array: T, length: number): T {
  const grown = new (array.constructor as new (length: number) => T)(length);
  grown.set(array);
  return grown;
}
