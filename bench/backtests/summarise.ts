// Summarises backtest reports (the --report files of bench/backtests/*.sh, named
// r-<seed>-<policy>[-s<step>].json) as a markdown table: per policy, the forward skill of
// what served over the naive constant (mean ± sd over seeds, and each seed), the share of
// right decisions and of the checkable promotions that were worse on the next step (pooled over seeds),
// and how many steps had something serving.
//   node bench/backtests/summarise.ts <dir> [suffix, e.g. -s7]
import fs from 'node:fs';
import path from 'node:path';
import { formatCount, formatShare, relativeGain } from '../../src/core/decision-gain.ts';

interface Report {
  skill: number | null;
  right: number;
  checked: number;
  promotions: number;
  /** Absent in reports made before issue #29 (then: promotions). */
  promotionsChecked?: number;
  promotedButWorse: number;
  rejectedButBetter: number;
  seconds: number;
  forward: number | null;
  forwardNaive: number | null;
  metric: string;
  steps: Array<{ forward: number | null; rows: number; decision: string; previousHeld: { candidate: number; champion: number } | null }>;
}

const [dir, suffix = ''] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/backtests/summarise.ts <dir> [suffix]');
const pattern = new RegExp(`^r-(\\d+)-(.+)${suffix.replace(/[-]/g, '\\-')}\\.json$`);
const byPolicy = new Map<string, Array<{ seed: number; report: Report }>>();
for (const name of fs.readdirSync(dir).sort()) {
  const match = pattern.exec(name);
  if (!match) continue;
  const report = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Report;
  const list = byPolicy.get(match[2]!) ?? byPolicy.set(match[2]!, []).get(match[2]!)!;
  list.push({ seed: Number(match[1]), report });
}
if (byPolicy.size === 0) throw new Error(`no r-<seed>-<policy>${suffix}.json reports in ${dir}`);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
const lines = [
  '| policy | forward skill vs naive, mean ± sd over seeds | per seed | forward metric (mean over seeds) | right decisions | promoted but worse | gain taken (promoting all) | steps served | minutes per replay |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const [policy, runs] of byPolicy) {
  runs.sort((a, b) => a.seed - b.seed);
  const skills = runs.map((r) => r.report.skill ?? Number.NaN);
  const sum = (pick: (r: Report) => number): number => runs.reduce((a, r) => a + pick(r.report), 0);
  const served = sum((r) => r.steps.filter((s) => s.forward !== null).length);
  const measurable = sum((r) => r.steps.length - 1);
  // What the decisions were worth (freshet backtest's decisionGain, recomputed from the steps so that
  // reports written before it count too), pooled over seeds: a share of the clairvoyant gate's gain.
  const gain = { captured: 0, alwaysPromote: 0, clairvoyant: 0 };
  for (const { report } of runs) {
    report.steps.forEach((s, k) => {
      const held = report.steps[k + 1]?.previousHeld;
      if (!held) return;
      const g = relativeGain(report.metric === 'auc', held.candidate, held.champion);
      if (s.decision === 'promoted') gain.captured += g;
      gain.alwaysPromote += g;
      gain.clairvoyant += Math.max(0, g);
    });
  }
  const gainCell = gain.clairvoyant > 0 ? `${formatShare(gain.captured / gain.clairvoyant)} (${formatShare(gain.alwaysPromote / gain.clairvoyant)})` : '-';
  lines.push(
    `| ${policy} | ${pct(mean(skills))} ± ${(100 * sd(skills)).toFixed(1)} | ${runs.map((r) => `${r.seed}: ${r.report.skill === null ? '-' : pct(r.report.skill)}`).join(', ')} | ${mean(runs.map((r) => r.report.forward ?? Number.NaN)).toPrecision(4)} (naive ${mean(runs.map((r) => r.report.forwardNaive ?? Number.NaN)).toPrecision(4)}) | ${formatCount(sum((r) => r.right), sum((r) => r.checked))} | ${formatCount(sum((r) => r.promotedButWorse), sum((r) => r.promotionsChecked ?? r.promotions))} | ${gainCell} | ${served}/${measurable} | ${(sum((r) => r.seconds) / runs.length / 60).toFixed(1)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
