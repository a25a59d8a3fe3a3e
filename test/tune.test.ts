// `freshet tune`: a bounded search with the backtest on a small history — the evidence
// table, the overlay, ranking by skill minus spread, resuming from the kept reports, and
// never writing into a folder it did not make.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { loadConfig } from '../src/core/config.ts';
import { searchSpace } from '../src/tune/search-space.ts';
import { rankPolicy } from '../src/tune/ranking.ts';
import { evidenceMarkdown, overlayYaml, wilsonInterval } from '../src/tune/tune-report.ts';
import type { TunePolicy } from '../src/tune/tune.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { trainEnv } from './support/train-config.ts';

test('the search space follows the configuration; ranking is mean minus spread; the overlay is nested YAML', () => {
  const config = loadConfig({ env: { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__CATEGORICAL: '["a","b","c"]', FRESHET_COLUMNS__LABEL: 'y' }, cwd: '/nonexistent' });
  const dims = searchSpace(config);
  assert.deepEqual(dims.map((d) => d.key), ['eval.holdoutPartitions', 'retrain.replayPartitions', 'retrain.virtualEpochs', 'training.learningRate', 'columns.vocabulary.embeddingDim', 'columns.crosses', 'retrain.averageCheckpoints', 'eval.mustBeatNaive']);
  assert.deepEqual(dims.at(-3)!.alternatives.map((a) => a.sets['columns.crosses']), ['[["a","b"]]', '[["a","c"]]', '[["b","c"]]']);
  assert.deepEqual(dims.at(-2)!.alternatives.map((a) => a.sets), [{ 'retrain.averageCheckpoints': '3' }]);
  assert.deepEqual(dims.at(-1)!.alternatives.map((a) => a.sets), [{ 'eval.mustBeatNaive': 'false', 'eval.fallback': 'none' }], 'the naive rules go together');
  const withoutRules = loadConfig({ env: { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y', FRESHET_EVAL__MUST_BEAT_NAIVE: 'false', FRESHET_EVAL__FALLBACK: 'none' }, cwd: '/nonexistent' });
  assert.deepEqual(searchSpace(withoutRules).at(-1)!.alternatives[0]!.sets, { 'eval.mustBeatNaive': 'true', 'eval.fallback': 'naive' });
  assert.deepEqual(dims[3]!.alternatives[0]!.sets, { 'training.learningRate': '0.003' });
  const numeric = loadConfig({ env: { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y' }, cwd: '/nonexistent' });
  assert.equal(searchSpace(numeric).length, 6, 'no embedding size or crosses without categorical columns');
  assert.throws(() => searchSpace(numeric, ['columns.crosses']), /--dims columns\.crosses: not searched here \(the dimensions for this configuration: eval\.holdoutPartitions, /);
  const report = (skill: number | null) => ({ skill, right: 1, checked: 2, promotedButWorse: 0, promotionsChecked: 1, seconds: 60 });
  const steady = rankPolicy([report(0.03), report(0.03)]);
  const lucky = rankPolicy([report(0.08), report(-0.01)]);
  assert.ok(steady.score > lucky.score, 'a steady +3% outranks +8% and −1%, though its mean is lower');
  assert.equal(rankPolicy([report(0.05), report(null)]).score, Number.NEGATIVE_INFINITY, 'a seed where nothing served cannot rank');
  const yaml = overlayYaml({ winner: { label: 'w', sets: { 'eval.holdoutPartitions': '2', 'columns.crosses': '[["a","b"]]' }, rank: steady }, policies: [], runs: 0, reused: 0, warmStarts: 0 }, { date: '2026-12-06', sourceDir: 'h', warmup: 3, step: 1, seeds: [1, 2] });
  assert.deepEqual(YAML.parse(yaml), { eval: { holdoutPartitions: 2 }, columns: { crosses: [['a', 'b']] } });
  assert.match(yaml, /crosses: \[ \[ a, b \] \]|crosses: \[\[a, b\]\]/);
  // The evidence table's shares carry their 90% Wilson interval: 16 of 24 right is anywhere from 50% to 80%.
  const eightEach = { skill: 0.03, right: 8, checked: 12, promotedButWorse: 2, promotionsChecked: 8, decisionGain: { captured: 0.03, alwaysPromote: 0.01, clairvoyant: 0.04 }, seconds: 60 };
  const judged: TunePolicy = { label: 'the configuration as it is', sets: {}, rank: rankPolicy([eightEach, eightEach]) };
  const table = evidenceMarkdown({ winner: judged, policies: [judged], runs: 2, reused: 0, warmStarts: 0 }, { date: '2026-12-07', sourceDir: 'h', warmup: 3, step: 1, seeds: [1, 2] });
  assert.match(table, /\| 16\/24 \(67%; 50–80%\) \| 4\/16 \(25%; 12–45%\) \| 75% \(25%\) \|/, table);
  // A report written before the gain was kept (a resumed tune): the pooled gain is unknown, not a share of part of the seeds.
  const { decisionGain: _, ...older } = eightEach;
  assert.equal(rankPolicy([eightEach, older]).decisionGain, null);
  assert.deepEqual(wilsonInterval(0, 5).map((x) => Math.round(100 * x)), [0, 35]);
  assert.deepEqual(wilsonInterval(5, 5).map((x) => Math.round(100 * x)), [65, 100]);
});

test('freshet tune on a small history: every policy over every seed, the winner ranked first, resumable from its reports', async () => {
  const dir = tempDir('freshet-tune-');
  fs.chmodSync(dir, 0o755);
  const history = path.join(dir, 'history');
  for (let d = 1; d <= 5; d++) {
    const partition = path.join(history, `dt=2026-11-0${d}`);
    writeCsv(path.join(partition, 'part-0.csv'), syntheticRows(500, d, d >= 4 ? 1 : 0));
    fs.writeFileSync(path.join(partition, '_SUCCESS'), '');
  }
  fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), 'columns:\n  features: [x0, x1, x2, x3]\n  label: y\n');
  // Small, fast training (the children inherit it); each backtest starts its own throwaway registry.
  const fast = Object.fromEntries(Object.entries(trainEnv(dir, '')).filter(([key]) => key.startsWith('FRESHET_TRAINING__')));
  const env = cleanEnv({ ...fast, FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2', FRESHET_RETRAIN__SCHEDULE: '' });
  const args = ['tune', 'history', '--warmup', '3', '--seeds', '1,2', '--dims', 'eval.holdoutPartitions', '--out', 'tuned'];
  const first = await runFreshet(args, { env, cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const evidence = fs.readFileSync(path.join(dir, 'tuned', 'tune-evidence.md'), 'utf8');
  const rows = evidence.split('\n').filter((l) => /^\| (the configuration as it is|eval\.holdoutPartitions=2) \|/.test(l));
  assert.equal(rows.length, 2, evidence);
  for (const row of rows) assert.match(row, /\| [+−][\d.]+%, [+−][\d.]+% \|/, 'one skill per seed');
  assert.match(evidence, /4 backtests \(0 reused/);
  // Each row weighs its decisions by what was at stake (a share of the clairvoyant gate's gain, or - when no candidate was better).
  for (const row of rows) assert.match(row, /\| (−?\d+% \(−?\d+%\)|-) \| [\d.]+ \| [^|]*\|$/, row); // a true minus sign, as the skills
  assert.equal(fs.readdirSync(path.join(dir, 'tuned', 'runs')).length, 4);
  // The winner is the higher rank (mean − sd), and the overlay holds exactly its keys.
  const rank = (row: string) => Number(/\| ([+−])([\d.]+)% \| [+−]/.exec(row)!.slice(1).join('').replace('−', '-'));
  const winnerRow = rows.find((r) => r.includes('**winner**'))!;
  assert.ok(rows.every((r) => rank(r) <= rank(winnerRow)), rows.join('\n'));
  const overlay = YAML.parse(fs.readFileSync(path.join(dir, 'tuned', 'tune.yaml'), 'utf8')) as Record<string, unknown> | null;
  assert.deepEqual(overlay ?? {}, winnerRow.startsWith('| eval.holdoutPartitions=2') ? { eval: { holdoutPartitions: 2 } } : {});
  // Again: every report is reused, nothing is backtested, the same ranking comes out.
  const again = await runFreshet(args, { env, cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  const evidenceAgain = fs.readFileSync(path.join(dir, 'tuned', 'tune-evidence.md'), 'utf8');
  assert.match(evidenceAgain, /4 backtests \(4 reused/);
  assert.equal(evidenceAgain.split('\n').filter((l) => l.startsWith('| the') || l.startsWith('| eval')).join('\n'), rows.join('\n'));
  // A dimension of retrain.* keys only: its alternative continues from the first model the configuration's backtest kept, which is gone afterwards.
  const shared = await runFreshet(['tune', 'history', '--warmup', '3', '--seeds', '1', '--dims', 'retrain.virtualEpochs', '--out', 'shared'], { env, cwd: dir });
  assert.equal(shared.code, 0, shared.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'shared', 'tune-evidence.md'), 'utf8'), /2 backtests \(0 reused from an earlier, interrupted tune; 1 continued from the first model of a policy that differs only in retrain\.\* keys\)/);
  assert.ok(!fs.existsSync(path.join(dir, 'shared', 'warmups')), 'the kept first models are removed once nothing can share them');
  // Another step is another backtest: nothing reused from the reports of step 1.
  const otherStep = await runFreshet(['tune', 'history', '--warmup', '3', '--step', '2', '--seeds', '1', '--dims', 'eval.holdoutPartitions', '--out', 'tuned'], { env, cwd: dir });
  assert.equal(otherStep.code, 0, otherStep.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'tuned', 'tune-evidence.md'), 'utf8'), /2 backtests \(0 reused/);
  // A backtest that fails (too short a history for the warm-up): tune stops, saying why.
  const failing = await runFreshet(['tune', 'history', '--warmup', '9', '--seeds', '1', '--out', 'failed'], { env, cwd: dir });
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /backtest of the configuration \(seed 1\) exited 2: .*holds 5 complete partitions; --warmup 9 and --step 1 need at least 10/);
  // A folder tune did not make is never written into.
  fs.mkdirSync(path.join(dir, 'mine'));
  fs.writeFileSync(path.join(dir, 'mine', 'notes.txt'), 'mine');
  const refused = await runFreshet(['tune', 'history', '--out', 'mine'], { env, cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--out .*mine holds files that freshet tune did not write; pass another folder/);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'mine')), ['notes.txt']);
});
