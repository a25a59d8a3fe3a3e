// A bounded sample of a partition's values, per requested column, taken during the
// validation pass: what the partition's statistics (partition-stats.ts) are computed from.
//
// Why a sample: the validation pass counts rows and checks values with a compiled pattern,
// never turning a field into a number (data/csv-validate.ts); reading every value to
// summarise it would cost that pass several times over. Counts that must be exact (rows,
// missing values per column) come from the pass itself; min, max, mean, spread, quantiles
// and top values come from this sample. The CSV pass takes lines at a fixed byte stride
// (about SAMPLE_LINES_PER_FILE a file, every line of a small one); the readers of JSON
// Lines and Parquet offer every row. Past `capacity` values a column keeps a uniform
// sample (reservoir sampling, seeded: the same data gives the same statistics).

/** Lines the CSV pass samples from one file (all of them in a file with fewer). */
export const SAMPLE_LINES_PER_FILE = 4096;

/** Values kept per column per partition. */
export const SAMPLE_CAPACITY = 16_384;

/** The sampled values, plain arrays: it crosses from a validation thread by postMessage. */
export interface SampledValues {
  columns: string[];
  /** Per requested column: present, finite numbers; or, for a categorical column, its texts. */
  values: Array<number[] | string[]>;
  /** Values offered per column (sampled rows where it was present), before the reservoir. */
  offered: number[];
}

export class ValueSampler {
  readonly #columns: string[];
  readonly #values: Array<Array<number | string>>;
  readonly #offered: number[];
  readonly #capacity: number;
  #random = 0x9e3779b9;

  constructor(columns: readonly string[], capacity = SAMPLE_CAPACITY) {
    this.#columns = [...columns];
    this.#values = this.#columns.map(() => []);
    this.#offered = this.#columns.map(() => 0);
    this.#capacity = capacity;
  }

  /** One present value of requested column `c`. */
  add(c: number, value: number | string): void {
    const seen = ++this.#offered[c]!;
    const kept = this.#values[c]!;
    if (kept.length < this.#capacity) {
      kept.push(value);
      return;
    }
    const slot = this.#next() % seen; // Algorithm R: each offered value stays with probability capacity/seen
    if (slot < this.#capacity) kept[slot] = value;
  }

  /** Another sample of the same columns (a file's), offered value by value. */
  absorb(other: SampledValues): void {
    other.values.forEach((values, c) => {
      for (const value of values) this.add(c, value);
      // Values the other sample had already dropped still count as offered.
      this.#offered[c]! += other.offered[c]! - values.length;
    });
  }

  toJSON(): SampledValues {
    return { columns: this.#columns, values: this.#values as Array<number[] | string[]>, offered: this.#offered };
  }

  /** xorshift32: fast, seeded, good enough to pick reservoir slots. */
  #next(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x >>> 0;
    return this.#random;
  }
}
