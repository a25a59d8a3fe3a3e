// What every reader yields: rows of the requested columns as numbers, in chunks (so the
// per-row cost is a loop iteration, not an await).

/**
 * A chunk's arrays are reused for the next chunk of the same reader: consume (or copy)
 * a chunk before asking for the next one. Reuse keeps the reader from allocating per
 * chunk, which measurably raised peak RSS with the amount of data read.
 */
export interface RowChunk {
  /** rows × columns, row-major; NaN where a value is missing or not a number. */
  values: Float64Array;
  /** 1-based line (CSV, JSON Lines; the header is line 1 in CSV) or row number (Parquet) of each row. */
  lines: Int32Array;
  rowCount: number;
}

export const CHUNK_ROWS = 4096;

/** Accumulates rows into fixed-size chunks. */
export class ChunkBuilder {
  readonly #width: number;
  readonly #values: Float64Array;
  readonly #lines: Int32Array;
  #count = 0;

  constructor(width: number) {
    this.#width = width;
    this.#values = new Float64Array(CHUNK_ROWS * width);
    this.#lines = new Int32Array(CHUNK_ROWS);
  }

  /** Adds a row; returns a full chunk when one is complete. */
  push(line: number, row: ArrayLike<number>): RowChunk | undefined {
    this.#values.set(row, this.#count * this.#width);
    this.#lines[this.#count] = line;
    this.#count += 1;
    return this.#count === CHUNK_ROWS ? this.flush() : undefined;
  }

  /** The rows so far as a chunk (views onto arrays that the next rows overwrite). */
  flush(): RowChunk | undefined {
    if (this.#count === 0) return undefined;
    const chunk = { values: this.#values.subarray(0, this.#count * this.#width), lines: this.#lines.subarray(0, this.#count), rowCount: this.#count };
    this.#count = 0;
    return chunk;
  }
}

/** Spellings of "not a number" that count as a missing value, not as bad data. */
export const NAN_SPELLINGS = new Set(['NaN', 'nan', 'NA', 'null', 'None']);

/** True when a present value does not read as a number (strict mode rejects it). */
export function isNonNumeric(value: unknown, parsed: number): boolean {
  if (!Number.isNaN(parsed)) return false;
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '' && !NAN_SPELLINGS.has(value.trim());
  return typeof value !== 'number';
}

/** A cell to a number: numbers as they are, numeric strings parsed, booleans 0/1, everything else NaN. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? Number.NaN : Number(value);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

/**
 * How a reader turns the cells of categorical columns into numbers: `encode(column, text)`
 * is called for every present value of a column in `columns` (indices into the requested
 * columns), and its number goes into the chunk. A missing value is NaN, as for numbers.
 */
export interface CategoryEncoding {
  columns: ReadonlySet<number>;
  encode(column: number, text: string): number;
}

/** Categorical columns read as 0 when present: for passes that need only to know which rows are valid. */
export function presenceEncoding(columns: ReadonlySet<number>): CategoryEncoding {
  return { columns, encode: () => 0 };
}

/**
 * A categorical cell as text: a string as it is, an integer (an id) in decimal. Missing
 * (null, undefined, '') is undefined; anything else (a fraction, a boolean, an object) is
 * null: not a category value, which strict reading rejects.
 */
export function categoryText(value: unknown): string | undefined | null {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return null;
}

/** The number a categorical cell reads as (NaN when missing or not a category); throws, through `reject`, in strict mode. */
export function encodeCategory(categories: CategoryEncoding, column: number, value: unknown, strict: boolean, reject: (message: string) => never): number {
  const text = categoryText(value);
  if (text === undefined) return Number.NaN;
  if (text === null) {
    if (strict) reject(`not a category value (a string or an integer): ${String(JSON.stringify(value)).slice(0, 40)}`);
    return Number.NaN;
  }
  return categories.encode(column, text);
}
