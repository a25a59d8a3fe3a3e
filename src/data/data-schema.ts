// A lineage's data schema: what each column's values are expected to look like, inferred
// from the partitions of its first model (TensorFlow Data Validation's idea), edited by
// people, and checked against every new partition. A partition that breaks an expectation
// has an anomaly; under validation.mode block it is quarantined (README › Validation).
//
// What the expectations aim at: errors in the data, not change in the world. A column in
// other units (miles become kilometres: its spread grows 1.6×), a feed that loses a column
// (missing values), renamed or garbled categories (values never seen), sentinel values far
// outside anything seen. Not a mean that moves, nor a label whose distribution shifts:
// that is drift (data/drift.ts), what retraining is for, and a quarantine would stop the
// lineage from following it. So the label is checked for missing values only.
import type { PartitionStats } from './partition-stats.ts';
import type { SampledValues } from './value-sample.ts';

export interface NumericExpectation {
  type: 'numeric';
  /** The range seen when the schema was inferred. */
  min: number;
  max: number;
  /**
   * The allowed range is [min, max] widened by rangeSlack × (max − min) on each side: a
   * sample's extremes are noisy and a feature may move, but a sentinel (99999) or a
   * value a thousand times too large lands far outside.
   */
  rangeSlack: number;
  /** Largest allowed share of values outside the widened range. */
  maxOutsideRangeShare: number;
  /**
   * The standard deviation at inference (the partitions' mean), and its kurtosis. A unit
   * change scales the standard deviation (miles to kilometres: × 1.609) even when the
   * values stay inside the range; a shift does not. A partition's is held to within a
   * factor of max(minStdFactor, e^(stdZ·se)), where se ≈ √((kurtosis − 1) / 4n) is the
   * standard error of the log standard deviation of its n sampled values: a heavy-tailed
   * or rare-valued column (8% airport trips) varies more from sample to sample.
   */
  std: number;
  kurtosis: number;
  minStdFactor: number;
  stdZ: number;
  /** Largest allowed share of rows with the value missing (NaN and infinite count as missing). */
  maxMissingShare: number;
}

export interface CategoricalExpectation {
  type: 'categorical';
  /** The values seen when the schema was inferred. */
  domain: string[];
  maxMissingShare: number;
  /** Largest allowed share of values outside the domain. */
  maxNewValueShare: number;
}

/** The label: only its missing share is an anomaly (a moving label is drift, what retraining follows). */
export interface LabelExpectation {
  type: 'label';
  maxMissingShare: number;
}

export type ColumnExpectation = NumericExpectation | CategoricalExpectation | LabelExpectation;

export interface DataSchema {
  columns: Record<string, ColumnExpectation>;
}

/** One broken expectation: the column, what was expected, what the partition holds. */
export interface Anomaly {
  column: string;
  expectation: string;
  observed: string;
}

/** Defaults of an inferred schema (each can be edited per column). */
export const SCHEMA_DEFAULTS = {
  /** Added to the largest missing share seen at inference. */
  missingSlack: 0.05,
  rangeSlack: 1,
  maxOutsideRangeShare: 0.01,
  /** The smallest factor a standard deviation may change by before it is an anomaly ... */
  minStdFactor: 1.25,
  /** ... or this many standard errors of the sample's log standard deviation, if more: on the 2001 flights and three synthetic taxi streams (258 partitions), no ordinary partition came past 4.1. */
  stdZ: 5,
  maxNewValueShare: 0.1,
} as const;

/** Infers a schema from partitions' statistics (those of the lineage's first model); `label` is the label column. */
export function inferSchema(partitions: readonly PartitionStats[], label: string | undefined): DataSchema {
  if (partitions.length === 0) throw new Error('no partition statistics to infer a schema from');
  const columns: Record<string, ColumnExpectation> = {};
  for (const name of Object.keys(partitions[0]!.columns)) {
    const all = partitions.map((p) => ({ rows: p.rows, column: p.columns[name] })).filter((p) => p.column !== undefined);
    const missingShare = Math.max(...all.map((p) => (p.rows > 0 ? p.column!.missing / p.rows : 0)));
    const maxMissingShare = round(Math.min(1, missingShare + SCHEMA_DEFAULTS.missingSlack));
    if (name === label) {
      columns[name] = { type: 'label', maxMissingShare };
      continue;
    }
    const first = all[0]!.column!;
    if (first.kind === 'numeric') {
      const present = all.map((p) => p.column!).filter((c) => c.kind === 'numeric' && c.min !== null) as Array<{ min: number; max: number; std: number; kurtosis: number | null }>;
      if (present.length === 0) continue; // never present: nothing to expect but absence
      const mean = (xs: number[]): number => xs.reduce((n, x) => n + x, 0) / xs.length;
      const kurtoses = present.map((c) => c.kurtosis).filter((k): k is number => k !== null);
      columns[name] = {
        type: 'numeric',
        min: Math.min(...present.map((c) => c.min)),
        max: Math.max(...present.map((c) => c.max)),
        rangeSlack: SCHEMA_DEFAULTS.rangeSlack,
        maxOutsideRangeShare: SCHEMA_DEFAULTS.maxOutsideRangeShare,
        std: round(mean(present.map((c) => c.std))),
        kurtosis: round(kurtoses.length ? mean(kurtoses) : 3),
        minStdFactor: SCHEMA_DEFAULTS.minStdFactor,
        stdZ: SCHEMA_DEFAULTS.stdZ,
        maxMissingShare,
      };
    } else {
      const domain = new Set<string>();
      for (const p of all) if (p.column!.kind === 'categorical') for (const [value] of p.column!.top) domain.add(value);
      columns[name] = { type: 'categorical', domain: [...domain].sort(), maxMissingShare, maxNewValueShare: SCHEMA_DEFAULTS.maxNewValueShare };
    }
  }
  return { columns };
}

/**
 * The anomalies of one partition: missing shares from its exact counts; values outside
 * the range or the domain, and the spread, from its value sample.
 */
export function findAnomalies(schema: DataSchema, stats: PartitionStats, sample: SampledValues): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const [column, expected] of Object.entries(schema.columns)) {
    const c = sample.columns.indexOf(column);
    const observed = stats.columns[column];
    if (c < 0 || !observed) continue; // a column the lineage no longer reads
    const missingShare = stats.rows > 0 ? observed.missing / stats.rows : 0;
    if (missingShare > expected.maxMissingShare) {
      anomalies.push({ column, expectation: `at most ${percent(expected.maxMissingShare)} missing`, observed: `${percent(missingShare)} missing (${observed.missing} of ${stats.rows} rows)` });
    }
    const values = sample.values[c]!;
    if (values.length === 0 || expected.type === 'label') continue;
    if (expected.type === 'numeric') anomalies.push(...numericAnomalies(column, expected, values as number[], observed.kind === 'numeric' ? observed.std : null));
    else {
      const domain = new Set(expected.domain);
      const unseen = new Map<string, number>();
      let outside = 0;
      for (const v of values as string[]) {
        if (domain.has(v)) continue;
        outside += 1;
        unseen.set(v, (unseen.get(v) ?? 0) + 1);
      }
      const share = outside / values.length;
      if (share > expected.maxNewValueShare) {
        const examples = [...unseen].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([v]) => JSON.stringify(v));
        anomalies.push({ column, expectation: `at most ${percent(expected.maxNewValueShare)} of values outside its domain of ${expected.domain.length}`, observed: `${percent(share)} new (${unseen.size} values never seen, e.g. ${examples.join(', ')}; ${values.length} sampled)` });
      }
    }
  }
  return anomalies;
}

function numericAnomalies(column: string, expected: NumericExpectation, values: readonly number[], std: number | null): Anomaly[] {
  const out: Anomaly[] = [];
  const slack = expected.rangeSlack * (expected.max - expected.min);
  const [low, high] = [expected.min - slack, expected.max + slack];
  let outside = 0;
  let seenLow = Infinity;
  let seenHigh = -Infinity;
  for (const v of values) {
    if (v < low || v > high) outside += 1;
    if (v < seenLow) seenLow = v;
    if (v > seenHigh) seenHigh = v;
  }
  const share = outside / values.length;
  if (share > expected.maxOutsideRangeShare) {
    out.push({ column, expectation: `at most ${percent(expected.maxOutsideRangeShare)} of values outside [${round(low)}, ${round(high)}] (the range seen, [${expected.min}, ${expected.max}], widened by ${expected.rangeSlack}× its width)`, observed: `${percent(share)} outside (values from ${seenLow} to ${seenHigh}; ${values.length} sampled)` });
  }
  if (std !== null) {
    // The log standard deviation's standard error for n sampled values (kurtosis − 1 ≥ 0.5 keeps it away from 0).
    const se = Math.sqrt(Math.max(expected.kurtosis - 1, 0.5) / (4 * values.length));
    const factor = Math.max(expected.minStdFactor, Math.exp(expected.stdZ * se));
    const changed = expected.std === 0 ? std > 0 : Math.abs(Math.log(std / expected.std)) > Math.log(factor);
    if (changed) {
      out.push({ column, expectation: `a standard deviation within ×/÷ ${factor.toFixed(2)} of ${expected.std} (another unit scales it)`, observed: `${round(std)}${expected.std > 0 ? `, × ${(std / expected.std).toFixed(2)}` : ''} (${values.length} sampled)` });
    }
  }
  return out;
}

/**
 * Per categorical column of the schema: the share of the partition's sampled values
 * outside its domain (the lineage's known values), kept with the partition's statistics.
 */
export function newValueShares(schema: DataSchema, sample: SampledValues): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const [column, expected] of Object.entries(schema.columns)) {
    const c = sample.columns.indexOf(column);
    if (expected.type !== 'categorical' || c < 0 || sample.values[c]!.length === 0) continue;
    const domain = new Set(expected.domain);
    const values = sample.values[c] as string[];
    shares[column] = round(values.filter((v) => !domain.has(v)).length / values.length);
  }
  return shares;
}

/** An anomaly as one line: what the registry keeps as a quarantined partition's reason. */
export function describeAnomaly(anomaly: Anomaly): string {
  return `${anomaly.column}: expected ${anomaly.expectation}; observed ${anomaly.observed}`;
}

/** A schema from JSON as a person wrote it (`freshet schema edit`): each problem names its field. */
export function parseSchema(value: unknown, where: string): DataSchema {
  const fail = (field: string, message: string): never => {
    throw new Error(`${where}: ${field}: ${message}`);
  };
  if (typeof value !== 'object' || value === null || typeof (value as { columns?: unknown }).columns !== 'object' || (value as { columns?: unknown }).columns === null) fail('columns', 'expected an object of column expectations');
  const columns: Record<string, ColumnExpectation> = {};
  for (const [name, raw] of Object.entries((value as { columns: Record<string, unknown> }).columns)) {
    const field = (key: string) => `columns.${name}.${key}`;
    const e = (raw ?? {}) as Record<string, unknown>;
    const share = (key: string): number => {
      const v = e[key];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(field(key), `expected a share from 0 to 1, got ${JSON.stringify(v)}`);
      return v as number;
    };
    if (e.type === 'numeric') {
      if (typeof e.min !== 'number' || typeof e.max !== 'number' || !(e.min <= e.max)) fail(field('min'), `expected numbers min ≤ max, got ${JSON.stringify(e.min)} and ${JSON.stringify(e.max)}`);
      const positive = (key: string, atLeast: number): number => {
        const v = e[key];
        if (typeof v !== 'number' || !(v >= atLeast)) fail(field(key), `expected a number ≥ ${atLeast}, got ${JSON.stringify(v)}`);
        return v as number;
      };
      columns[name] = { type: 'numeric', min: e.min as number, max: e.max as number, rangeSlack: positive('rangeSlack', 0), maxOutsideRangeShare: share('maxOutsideRangeShare'), std: positive('std', 0), kurtosis: positive('kurtosis', 1), minStdFactor: positive('minStdFactor', 1), stdZ: positive('stdZ', 0), maxMissingShare: share('maxMissingShare') };
    } else if (e.type === 'categorical') {
      if (!Array.isArray(e.domain) || !e.domain.every((v) => typeof v === 'string')) fail(field('domain'), 'expected a list of strings');
      columns[name] = { type: 'categorical', domain: e.domain as string[], maxMissingShare: share('maxMissingShare'), maxNewValueShare: share('maxNewValueShare') };
    } else if (e.type === 'label') {
      columns[name] = { type: 'label', maxMissingShare: share('maxMissingShare') };
    } else fail(field('type'), `expected numeric, categorical or label, got ${JSON.stringify(e.type)}`);
  }
  return { columns };
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
