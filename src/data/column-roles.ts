// What `freshet init --from` does with each column of a sample partition: the label, a
// numeric feature, a categorical one, or left out with the reason in words. Rules, in order:
// empty, constant, mostly missing, a date or time, an identifier (text with too many
// distinct values, or whole numbers rising row by row), a code (text with few values, or
// whole numbers with at most CODE_MAX_DISTINCT), else a number.
import type { ColumnProfile } from './column-profile.ts';

/** Whole-number columns with at most this many values (and few per row) are codes: an hour, a weekday, a zone. */
export const CODE_MAX_DISTINCT = 32;
/** A text column whose distinct values exceed this share of its rows names rows, not kinds (an id, a free-text note). */
export const ID_DISTINCT_SHARE = 0.5;
/** Columns missing in more than this share of rows are left out (the trainer skips rows with a missing value). */
export const MAX_MISSING_SHARE = 0.5;

export type Role = 'label' | 'numeric' | 'categorical' | 'left out';

export interface ColumnRole {
  name: string;
  role: Role;
  reason: string;
  /** A text code whose values repeat (a store, a station, an airport): what eval.entityColumn may name for a persistence baseline. */
  entityLike?: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');
const examples = (p: ColumnProfile): string => p.examples.map((e) => JSON.stringify(e)).join(', ');

function featureRole(p: ColumnProfile, maxTokens: number): ColumnRole {
  const present = p.numbers + p.texts;
  const leftOut = (reason: string): ColumnRole => ({ name: p.name, role: 'left out', reason });
  if (present === 0) return leftOut(`empty: no value in ${count(p.rows)} rows`);
  if (p.distinct === 1) return leftOut(`constant in this partition: ${examples(p)} in every row that has a value (if it varies between partitions, as a weekday does in daily ones, add it by hand)`);
  if (p.missing / p.rows > MAX_MISSING_SHARE) return leftOut(`mostly missing: ${Math.round((100 * p.missing) / p.rows)}% of ${count(p.rows)} rows (rows with a missing value are skipped in training)`);
  if (p.texts > p.numbers) {
    if (p.dateLike >= 0.9) return leftOut(`a date or time (${examples(p)}): not a feature as it is; derive the hour or the weekday from it in the data`);
    if (p.distinct > maxTokens || (present >= 20 && p.distinct > ID_DISTINCT_SHARE * present)) return leftOut(`an identifier: ${p.distinct > 20_000 ? 'over 20,000' : count(p.distinct)} distinct values in ${count(present)} rows (${examples(p)})`);
    return { name: p.name, role: 'categorical', reason: `text with ${count(p.distinct)} distinct values (${examples(p)})`, entityLike: true };
  }
  const mixed = p.texts > 0 ? `; ${count(p.texts)} text values read as missing` : '';
  if (p.integers && p.increasing && p.distinct === p.numbers && p.numbers >= 20) return leftOut(`rises row by row (${examples(p)}, …): a row number or a timestamp, not a feature`);
  if (p.integers && p.distinct <= CODE_MAX_DISTINCT && p.distinct * 10 <= present) return { name: p.name, role: 'categorical', reason: `whole numbers with ${p.distinct} distinct values (a code: an hour, a weekday, a zone)${mixed}` };
  return { name: p.name, role: 'numeric', reason: `numbers, ${p.distinct > 20_000 ? 'over 20,000' : count(p.distinct)} distinct${mixed}` };
}

/** Each column's role; the label must be one of them and hold numbers. */
export function columnRoles(profiles: readonly ColumnProfile[], { label, maxTokens }: { label: string; maxTokens: number }): ColumnRole[] {
  const target = profiles.find((p) => p.name === label);
  if (!target) throw new Error(`--label ${label}: no such column (the columns are ${profiles.map((p) => p.name).join(', ')})`);
  if (target.texts > target.numbers) throw new Error(`--label ${label}: the column holds text (${examples(target)}); a label is a number (regression) or 0/1 (binary)`);
  return profiles.map((p) => (p.name === label ? { name: p.name, role: 'label', reason: labelReason(p) } : featureRole(p, maxTokens)));
}

/** True when the label holds only 0 and 1: a binary task. */
export function isBinaryLabel(p: ColumnProfile): boolean {
  return p.integers && p.distinct === 2 && p.examples.every((e) => e === '0' || e === '1');
}

function labelReason(p: ColumnProfile): string {
  return isBinaryLabel(p) ? '0 or 1 (model.task binary)' : `numbers, ${count(p.distinct)} distinct (model.task regression)`;
}
