// How much can a few days foretell a week? The ceiling of any gate that decides on a
// couple of days of evidence, read from backtest reports (their per-partition checks,
// `previousHeld.byPartition`).
//
// For each checked decision (a candidate against what it was held against), the truth is
// the candidate's relative gain over the days k+1… of the next step. Three deciders are
// judged on those same days, first order (each on the decisions as they were made):
//   - the real gate, its decisions as made;
//   - the gate's own held-out days (its recorded gain), under thresholds;
//   - the *next step's own first k days* — a gate that could see the first k days of the
//     very period it will serve, under thresholds. No real gate has more recent evidence
//     than this one: if it cannot separate the right candidates from the wrong, no gate
//     that looks at k days can.
//   node bench/backtests/ceiling.ts [-k 2] <report.json>...
import fs from 'node:fs';
import { formatCount } from '../../src/core/decision-gain.ts';

interface DayCheck {
  partition: string;
  rows: number;
  candidate: number;
  champion: number;
}

interface Report {
  metric: string;
  steps: Array<{
    decision: string;
    candidate: number | null;
    champion: number | null;
    previousHeld: { against: string; byPartition?: DayCheck[] } | null;
  }>;
}

interface Decision {
  promoted: boolean;
  /** The candidate's relative gain on the next step's first k days. */
  firstDays: number;
  /** The candidate's relative gain on the rest of the next step: what decides right or wrong here. */
  later: number;
  /** The candidate's relative gain on the gate's own held-out rows (null: the gate had no champion score). */
  gate: number | null;
}

const args = process.argv.slice(2);
let k = 2;
if (args[0] === '-k') {
  k = Number(args[1]);
  args.splice(0, 2);
}
if (!Number.isInteger(k) || k < 1 || args.length === 0) throw new Error('usage: node bench/backtests/ceiling.ts [-k DAYS] <report.json>...');

/** Row-weighted score of one model over some days (exact for a mean over rows: mae, mse). */
function over(days: DayCheck[], model: 'candidate' | 'champion'): number {
  return days.reduce((sum, d) => sum + d.rows * d[model], 0) / days.reduce((sum, d) => sum + d.rows, 0);
}

const decisions: Decision[] = [];
for (const file of args) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
  // A gain is "lower is better" here; auc would need the sign turned and is not a mean over rows.
  if (report.metric !== 'mae' && report.metric !== 'mse') throw new Error(`${file}: metric ${report.metric}: only mae and mse add up over days`);
  for (let i = 1; i < report.steps.length; i++) {
    const held = report.steps[i]!.previousHeld;
    if (!held) continue;
    if (!held.byPartition) throw new Error(`${file}: step ${i} has no per-partition check (previousHeld.byPartition): a report from before it was kept; run the backtest again`);
    if (held.byPartition.length <= k) continue; // nothing left to judge on after the first k days (a short last step)
    const first = held.byPartition.slice(0, k);
    const rest = held.byPartition.slice(k);
    const decided = report.steps[i - 1]!;
    const gain = (days: DayCheck[]) => (over(days, 'champion') - over(days, 'candidate')) / over(days, 'champion');
    decisions.push({
      promoted: decided.decision === 'promoted',
      firstDays: gain(first),
      later: gain(rest),
      gate: decided.candidate !== null && decided.champion !== null ? (decided.champion - decided.candidate) / decided.champion : null,
    });
  }
}
if (decisions.length === 0) throw new Error(`no checked decision with more than ${k} days in the next step`);

function row(name: string, promote: (d: Decision) => boolean): string {
  let right = 0;
  let promoted = 0;
  let worse = 0;
  for (const d of decisions) {
    const yes = promote(d);
    if (yes === d.later > 0) right += 1;
    if (yes) {
      promoted += 1;
      if (d.later <= 0) worse += 1;
    }
  }
  return `| ${name} | ${formatCount(right, decisions.length)} | ${formatCount(worse, promoted)} |`;
}

function correlation(pairs: Array<[number, number]>): number {
  const n = pairs.length;
  const mx = pairs.reduce((s, [x]) => s + x, 0) / n;
  const my = pairs.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

const thresholds = [0, 0.01, 0.02, 0.03];
const percent = (t: number) => `${t * 100}%`;
const lines = [
  `${decisions.length} checked decisions of ${args.length} reports; each judged on the next step's days after its first ${k} (first order: the decisions as made)`,
  '',
  '| decide by | right | promoted but worse |',
  '| --- | --- | --- |',
  row('the real gate, as it decided', (d) => d.promoted),
  row('promote every candidate', () => true),
  ...thresholds.map((t) => row(`the gate's held-out days, gain above ${percent(t)}`, (d) => d.gate !== null && d.gate > t)),
  ...thresholds.map((t) => row(`the next step's own first ${k} day${k === 1 ? '' : 's'}, gain above ${percent(t)}`, (d) => d.firstDays > t)),
  '',
  `correlation with the gain on the later days: the gate's held-out days ${correlation(decisions.filter((d) => d.gate !== null).map((d) => [d.gate!, d.later])).toFixed(2)}, the next step's first ${k} day${k === 1 ? '' : 's'} ${correlation(decisions.map((d) => [d.firstDays, d.later])).toFixed(2)}`,
];
console.log(lines.join('\n'));
