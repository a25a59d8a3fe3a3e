// What the training stream is about: the partitions it reads, the columns and the split,
// the statistics a lineage is standardised with, and where a stream is (its cursor).
import { crossName, type Vocabulary } from '../../data/index.ts';

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

/** Where the training stream is: the pass, and how many rows of it were already emitted. */
export interface DataCursor {
  pass: number;
  offset: number;
}

export interface RowCounts {
  rows: number;
  invalid: number;
}

/** The columns read as vocabulary ids, in input order: the categorical ones, then the crossed ones (named a×b). */
export function categoricalSlots(columns: ColumnSpec): string[] {
  return [...columns.categorical, ...(columns.crosses ?? []).map(crossName)];
}

/** Values per row the model reads: the numeric features, then one id per categorical and crossed column. */
export function inputWidth(columns: ColumnSpec): number {
  return columns.features.length + categoricalSlots(columns).length;
}
