// What a sample partition's columns hold, for `freshet init --from`: per column, how many
// values are numbers, text or missing, how many distinct values (up to a cap), whether
// numbers are whole, rise with the rows, or look like dates. Read through the same readers
// as training (CSV, JSON Lines, Parquet), the first PROFILE_ROWS rows of the partition (whole chunks of 4,096).
import { readTable } from './read-table.ts';
import { tableSchema } from './table-schema.ts';
import { doorFor } from './file-door.ts';
import { NAN_SPELLINGS } from './row-chunk.ts';

/** Rows read per partition: enough to tell a code from an id, little enough to be instant. */
export const PROFILE_ROWS = 20_000;
/** Distinct values counted per column, past which only "more" is known. */
export const DISTINCT_CAP = 20_000;

export interface ColumnProfile {
  name: string;
  rows: number;
  /** Values that read as finite numbers. */
  numbers: number;
  /** Present values that are not numbers (text). */
  texts: number;
  missing: number;
  /** Distinct present values (numbers and text as written), at most DISTINCT_CAP + 1. */
  distinct: number;
  /** Every number is a whole number. */
  integers: boolean;
  /** The numbers rise strictly from row to row (a row counter or a timestamp). */
  increasing: boolean;
  /** Share of text values shaped like a date or a time (2026-11-26, 2026-11-26T13:05, 13:05:00). */
  dateLike: number;
  /** A few values as written, for the comment that explains a choice. */
  examples: string[];
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$|^\d{2}:\d{2}(:\d{2})?$/;

class Profiler {
  readonly name: string;
  rows = 0;
  numbers = 0;
  texts = 0;
  dates = 0;
  integers = true;
  increasing = true;
  #last = Number.NEGATIVE_INFINITY;
  readonly #distinct = new Set<string>();
  readonly examples: string[] = [];

  constructor(name: string) {
    this.name = name;
  }

  #see(written: string): void {
    if (this.#distinct.size <= DISTINCT_CAP) this.#distinct.add(written);
    if (this.examples.length < 3 && !this.examples.includes(written)) this.examples.push(written);
  }

  number(value: number): void {
    this.numbers += 1;
    if (!Number.isInteger(value)) this.integers = false;
    if (!(value > this.#last)) this.increasing = false;
    this.#last = value;
    this.#see(String(value));
  }

  text(value: string): void {
    this.texts += 1;
    if (DATE_LIKE.test(value.trim())) this.dates += 1;
    this.#see(value);
  }

  profile(): ColumnProfile {
    const present = this.numbers + this.texts;
    return {
      name: this.name,
      rows: this.rows,
      numbers: this.numbers,
      texts: this.texts,
      missing: this.rows - present,
      distinct: this.#distinct.size,
      integers: this.numbers > 0 && this.integers,
      increasing: this.numbers > 1 && this.increasing,
      dateLike: this.texts ? this.dates / this.texts : 0,
      examples: this.examples,
    };
  }
}

/** The columns of `partitionDir`'s data files (the first file's header names them), profiled on its first PROFILE_ROWS rows. */
export async function profilePartition(partitionDir: string, files: readonly string[]): Promise<ColumnProfile[]> {
  const door = doorFor(partitionDir);
  const paths = files.map((f) => door.join(partitionDir, f));
  if (paths.length === 0) return [];
  const names = Object.keys(await tableSchema(paths[0]!));
  const profilers = names.map((name) => new Profiler(name));
  // Every column read as text where it is text: the encoding sees each present non-number
  // (and each whole number, as decimal); the numeric read sees the numbers.
  let texts: string[][] = names.map(() => []);
  const everyColumn = new Set(names.map((_, i) => i));
  const categories = { columns: everyColumn, encode: (column: number, text: string) => (texts[column]!.push(text), 0) };
  let seen = 0;
  for (const file of paths) {
    if (seen >= PROFILE_ROWS) break;
    const numeric = readTable(file, names);
    const textual = readTable(file, names, { categories });
    for (;;) {
      texts = names.map(() => []);
      const [a, b] = [await numeric.next(), await textual.next()];
      if (a.done || b.done) break;
      const rows = a.value.rowCount; // whole chunks: the text cells of a chunk are not numbered by row
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < names.length; c++) {
          const profiler = profilers[c]!;
          profiler.rows += 1;
          const value = a.value.values[r * names.length + c]!;
          if (Number.isFinite(value)) profiler.number(value);
        }
      }
      // Text cells: present values that are not numbers (a number in a CSV, or a whole
      // number anywhere, also arrives here as text; "NA" and the like are missing values).
      for (let c = 0; c < names.length; c++) {
        for (const text of texts[c]!) if (text.trim() !== '' && !NAN_SPELLINGS.has(text.trim()) && !Number.isFinite(Number(text))) profilers[c]!.text(text);
      }
      seen += rows;
      if (seen >= PROFILE_ROWS) break;
    }
    await numeric.return(undefined);
    await textual.return(undefined);
  }
  return profilers.map((p) => p.profile());
}
