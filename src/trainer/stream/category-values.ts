// Categorical columns in the stream: values read as vocabulary ids, or as indices into a
// table of the raw values seen (to count them before any vocabulary exists).
import { VocabularyLookup, type CategoryEncoding, type ValueCounts, type Vocabulary } from '../../data/index.ts';
import { type TrainingPartition, type ColumnSpec, type SplitSpec, categoricalSlots } from './stream-spec.ts';
import { forEachRow } from './valid-rows.ts';

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
export class CategoryTable {
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
export function countRow(row: ArrayLike<number>, first: number, table: CategoryTable, counts: ValueCounts[]): void {
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
