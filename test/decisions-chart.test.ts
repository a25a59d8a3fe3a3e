// The status page's decision chart (issue #24, item 15): candidate, champion and naive
// baseline can be told apart whatever their scale; axes are labelled; labels never overprint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decisionsChartSvg } from '../src/observability/decisions-chart.ts';
import { foldedReason } from '../src/observability/status-page.ts';
import type { StatusReport } from '../src/observability/index.ts';

type Decision = StatusReport['decisions'][number];
const decision = (i: number, candidate: number, champion: number | null, naive: number, promoted: boolean): Decision => ({
  id: String(i),
  at: `2026-11-${String(10 + i).padStart(2, '0')}T00:00:00.000Z`,
  decision: promoted ? 'promoted' : 'rejected',
  candidateMetric: candidate,
  championMetric: champion,
  naiveMetric: naive,
  naiveName: 'median',
  holdout: 'newest',
  candidateSkill: 1 - candidate / naive,
  championSkill: champion === null ? null : 1 - champion / naive,
  metricName: 'mse',
  actor: 'freshet',
  reason: 'test',
  slices: null,
});
const ys = (svg: string, pattern: RegExp): number[] => [...svg.matchAll(pattern)].map((m) => Number(m[1]));

test('models far better than the constant: candidate and champion stay apart, the naive line is named at the edge (split axis)', () => {
  // mse 0.075 and 0.142 against a naive 19.2: skills +99.6% and +99.3%.
  const svg = decisionsChartSvg([decision(3, 0.1423, 0.0754, 19.25, false), decision(2, 0.0828, null, 19.84, true)])!; // newest first, as the report lists them
  const candidates = ys(svg, /class="candidate-point [a-z]+" cx="[\d.]+" cy="([\d.]+)"/g);
  const champions = ys(svg, /class="champion-point" x="[\d.]+" y="([\d.]+)"/g).map((y) => y + 3);
  assert.equal(candidates.length, 2);
  assert.equal(champions.length, 1);
  assert.ok(Math.abs(candidates.at(-1)! - champions[0]!) > 40, `the rejected candidate (${candidates.at(-1)}) and the champion (${champions[0]}) are apart`);
  assert.match(svg, /class="naive-line off-scale"[^]*naive baseline at 0%, below this range \(axis split\)/);
  assert.match(svg, />skill over the naive baseline, mse \(%\)</);
  assert.match(svg, />gate decisions, oldest → newest \(2\)</);
  assert.match(svg, />\+99\.\d+%</, 'ticks with enough decimals to tell them apart');
});

test('models near the constant: the naive line is drawn to scale at 0%', () => {
  const svg = decisionsChartSvg([decision(3, 0.98, 1.01, 1, true), decision(2, 1.02, 0.99, 1, false), decision(1, 0.99, null, 1, true)])!;
  assert.match(svg, /<line class="naive-line" x1/);
  assert.doesNotMatch(svg, /off-scale/);
  // Legend entries never overlap: each starts after the previous one's text.
  const starts = ys(svg, /<g transform="translate\(([\d.]+),12\)">/g);
  assert.equal(starts.length, 3);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! > 100);
});

test('a long reason folds to its first clause; the whole text stays one click away', () => {
  const folded = foldedReason('candidate mse 0.14233 vs champion 0.075434 on 1500 gate rows (all rows of dt=2026-11-04); worse by 0.067', 'decision-7').html;
  assert.match(folded, /^<details class="reason" id="decision-7"><summary>candidate mse 0\.14233 vs champion 0\.075434 on 1500 gate rows \(all rows of dt=2026-11-04\) …<\/summary>candidate mse/);
  assert.equal(foldedReason('no champion yet', 'd').html, 'no champion yet');
});
