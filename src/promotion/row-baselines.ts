// The naive baselines that predict each row on its own (eval.naive): persistence (`last`,
// each entity's label in its newest earlier partition), a seasonal lag (`seasonal:K`, its
// label K partitions before) and a baseline shipped in the data (`column:NAME`, such as the
// forecast in production today). On seasonal data a constant is a straw man: "+98% over
// the median" says nothing when yesterday's value is what a person would compare with.
//
// Pure: the caller reads the labels of the partitions before the scored ones (the history)
// and hands them in with each scored row's partition and entity; nothing here reads files.
// An entity's label in a partition is the mean of its rows there (one row per entity and
// partition, the usual case, is that row's label; several, e.g. flights from one airport
// on one day, their mean — the prediction a person would make from yesterday's table).

/** An eval.naive entry, parsed (config.ts checks the spelling: NAIVE_SPEC). */
export type NaiveSpec = { kind: 'constant'; name: 'median' | 'mean' } | { kind: 'last' } | { kind: 'seasonal'; lag: number } | { kind: 'column'; column: string };

export function parseNaiveSpec(text: string): NaiveSpec {
  if (text === 'median' || text === 'mean') return { kind: 'constant', name: text };
  if (text === 'last') return { kind: 'last' };
  if (text.startsWith('seasonal:')) return { kind: 'seasonal', lag: Number(text.slice('seasonal:'.length)) };
  if (text.startsWith('column:')) return { kind: 'column', column: text.slice('column:'.length) };
  throw new Error(`eval.naive: ${text} is not median, mean, last, seasonal:K or column:NAME`);
}

/** The name a baseline is recorded and shown under (promotions.naive_name): the spec as written. */
export function naiveSpecName(spec: NaiveSpec): string {
  switch (spec.kind) {
    case 'constant':
      return spec.name;
    case 'last':
      return 'last';
    case 'seasonal':
      return `seasonal:${spec.lag}`;
    case 'column':
      return `column:${spec.column}`;
  }
}

/**
 * How far back `last` looks for an entity's label, in partitions: an entity absent for
 * longer is not "yesterday's value" any more (it gets the median), and the history the gate
 * reads stays bounded (a week of daily partitions).
 */
export const LAST_LOOKBACK_PARTITIONS = 7;

/** Partitions of history the specs need before the first scored partition. */
export function historyPartitionsNeeded(specs: readonly NaiveSpec[]): number {
  let needed = 0;
  for (const spec of specs) {
    if (spec.kind === 'last') needed = Math.max(needed, LAST_LOOKBACK_PARTITIONS);
    if (spec.kind === 'seasonal') needed = Math.max(needed, spec.lag);
  }
  return needed;
}

/**
 * Labelled rows in partition order: each row's partition as a position in one sequence
 * (the history's partitions, then the scored ones, oldest first), its entity (an id; NaN
 * or no array: the whole partition is one entity) and its label.
 */
export interface LabelledRows {
  position: Int32Array;
  entity: Float64Array | null;
  label: Float32Array | Float64Array;
}

/** The rows a per-row baseline predicts: their positions and entities, and each column:NAME's values. */
export interface ScoredRows {
  position: Int32Array;
  entity: Float64Array | null;
  columns: ReadonlyMap<string, Float64Array>;
}

export interface RowBaseline {
  name: string;
  predictions: Float32Array;
  /** Rows that had a value of their own (the rest got `fill`, the median). */
  covered: number;
  fill: number;
}

/** Each entity's mean label per partition position: what `last` and `seasonal:K` look up. */
export type EntityMeans = Map<number, Map<number, number>>;

/** The mean label of each entity in each partition position (without an entity array, the whole partition is entity −1). Computed once for every per-row spec. */
export function entityMeans(rows: readonly LabelledRows[]): EntityMeans {
  const sums = new Map<number, Map<number, [number, number]>>();
  for (const { position, entity, label } of rows) {
    for (let r = 0; r < label.length; r++) {
      const e = entity ? entity[r]! : -1;
      if (Number.isNaN(e)) continue;
      let byEntity = sums.get(position[r]!);
      if (!byEntity) sums.set(position[r]!, (byEntity = new Map()));
      const sum = byEntity.get(e);
      if (sum) {
        sum[0] += label[r]!;
        sum[1] += 1;
      } else byEntity.set(e, [label[r]!, 1]);
    }
  }
  return new Map([...sums].map(([p, byEntity]) => [p, new Map([...byEntity].map(([e, [s, n]]) => [e, s / n]))]));
}

/**
 * Each scored row's prediction under a per-row spec. `means` are entityMeans() of the
 * history's rows and the scored rows' own labels (a later scored partition's persistence is
 * the earlier one's label, as it would be in production the next day); `fallback` is what a
 * row with nothing of its own gets (the training window's median).
 */
export function rowBaseline(spec: Exclude<NaiveSpec, { kind: 'constant' }>, scored: ScoredRows, means: EntityMeans, fallback: number): RowBaseline {
  const rows = scored.position.length;
  const predictions = new Float32Array(rows);
  let covered = 0;
  const put = (r: number, value: number | undefined): void => {
    if (value === undefined || !Number.isFinite(value)) predictions[r] = fallback;
    else {
      predictions[r] = value;
      covered += 1;
    }
  };
  if (spec.kind === 'column') {
    const values = scored.columns.get(spec.column);
    if (!values) throw new Error(`eval.naive column:${spec.column}: the column was not read with the gate rows`);
    for (let r = 0; r < rows; r++) put(r, values[r]);
    return { name: naiveSpecName(spec), predictions, covered, fill: fallback };
  }
  const entityOf = (r: number): number => (scored.entity ? scored.entity[r]! : -1);
  if (spec.kind === 'seasonal') {
    for (let r = 0; r < rows; r++) put(r, means.get(scored.position[r]! - spec.lag)?.get(entityOf(r)));
    return { name: naiveSpecName(spec), predictions, covered, fill: fallback };
  }
  for (let r = 0; r < rows; r++) {
    const at = scored.position[r]!;
    const e = entityOf(r);
    let value: number | undefined;
    for (let p = at - 1; p >= at - LAST_LOOKBACK_PARTITIONS && value === undefined; p--) value = means.get(p)?.get(e);
    put(r, value);
  }
  return { name: naiveSpecName(spec), predictions, covered, fill: fallback };
}
