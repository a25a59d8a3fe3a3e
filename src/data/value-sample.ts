// A bounded sample of a partition's values, per requested column, taken during the
// validation pass: what the partition's statistics (partition-stats.ts) are computed from.
//
// Why a sample: the validation pass counts rows and checks values with a compiled pattern,
// never turning a field into a number (data/csv-validate.ts); reading every value to
// summarise it would cost that pass several times over. Counts that must be exact (rows,
// missing values per column) come from the pass itself; min, max, mean, spread, quantiles
// and top values come from this sample. The CSV pass takes lines at a fixed byte stride,
// about SAMPLE_LINES a partition spread over its files (every line of a small one); the
// readers of JSON Lines and Parquet offer every row. Past `capacity` values a column keeps
// a uniform sample (reservoir sampling, seeded: the same data gives the same statistics).
//
// Why 256: the statistics may add at most 15% to the validation pass (issue #28). On a
// day of flights (15,000 lines, 1.2 MB; the pass takes 5–7 ms) 512 sampled lines cost
// 0.52 ms to read (about 1 µs a line: cut, parsed, kept) and 0.45 ms to summarise (sorts
// for the quantiles, counts for the top values), plus the collector's share: 35–50% in
// bench:watch; 256 lines halve it (BENCHMARKS.md › statistics pass). Enough for deciles
// (a decile's standard error is under 2 points of probability), for means (a unit change
// moves a mean by many standard errors) and for the drift measures, which data/drift.ts
// corrects for the sample's size.

/** Lines the CSV pass samples from one partition (all of them in a smaller one). */
export const SAMPLE_LINES = 256;

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
  /**
   * Numeric columns in arrays that only ever hold numbers, which V8 stores as unboxed
   * doubles; not typed arrays: each of those is an ArrayBuffer whose off-heap memory
   * makes V8 collect garbage sooner (measured: +2–3 ms a day-sized partition).
   */
  readonly #numbers: Array<number[] | undefined>;
  readonly #texts: Array<string[] | undefined>;
  readonly #kept: number[];
  readonly #offered: number[];
  readonly #capacity: number;
  #random = 0x9e3779b9;

  /** `categorical`: indices of the columns whose values are texts. */
  constructor(columns: readonly string[], categorical: ReadonlySet<number>, capacity = SAMPLE_CAPACITY) {
    this.#columns = [...columns];
    this.#numbers = this.#columns.map((_, c) => (categorical.has(c) ? undefined : []));
    this.#texts = this.#columns.map((_, c) => (categorical.has(c) ? [] : undefined));
    this.#kept = this.#columns.map(() => 0);
    this.#offered = this.#columns.map(() => 0);
    this.#capacity = capacity;
  }

  /** One present value of requested column `c` (a number, or a text for a categorical column). */
  add(c: number, value: number | string): void {
    const seen = ++this.#offered[c]!;
    let slot = this.#kept[c]!;
    if (slot < this.#capacity) this.#kept[c] = slot + 1;
    else {
      slot = this.#next() % seen; // Algorithm R: each offered value stays with probability capacity/seen
      if (slot >= this.#capacity) return;
    }
    const texts = this.#texts[c];
    if (texts) {
      texts[slot] = value as string;
      return;
    }
    this.#numbers[c]![slot] = value as number; // slot ≤ length: the array stays packed
  }

  /** Another sample of the same columns (a file's, from a validation thread), offered value by value. */
  absorb(other: SampledValues): void {
    other.values.forEach((values, c) => {
      for (const value of values) this.add(c, value);
      // Values the other sample had already dropped still count as offered.
      this.#offered[c]! += other.offered[c]! - values.length;
    });
  }

  toJSON(): SampledValues {
    const values = this.#columns.map((_, c) => this.#texts[c] ?? this.#numbers[c]!);
    return { columns: this.#columns, values, offered: this.#offered };
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
