// `freshet backtest`: a small history replayed through the real loop on a throwaway
// registry; its per-step numbers are the registry's decisions, and its forward scores are
// what the serving model and the naive constant score on each step before it arrives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { listPromotions, findLineageByName } from '../src/registry/index.ts';
import { runBacktest, summarise } from '../src/backtest/index.ts';
import { Rng } from '../src/core/rng.ts';
import { formatBacktest, gainLine, setToEnvironment } from '../src/cli/backtest-verb.ts';
import { BacktestProgress } from '../src/cli/backtest-progress.ts';
import { Writable } from 'node:stream';
import { createTestDatabase } from './support/database.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';

function writeHistory(dir: string, days: number): void {
  for (let d = 1; d <= days; d++) {
    const partition = path.join(dir, `dt=2026-11-0${d}`);
    writeCsv(path.join(partition, 'part-0.csv'), syntheticRows(600, d, d >= 4 ? 1 : 0));
    fs.writeFileSync(path.join(partition, '_SUCCESS'), '');
  }
}

test('runBacktest: every step through the queue and the gate; its table is the registry\'s decisions', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-backtest-');
  const history = path.join(dir, 'history');
  writeHistory(history, 6);
  const config = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2' });
  const summary = await runBacktest({ sourceDir: history, config, db, warmup: 3, step: 1, log: createLogger({ level: 'warn', format: 'json' }), signal: new AbortController().signal });
  assert.equal(summary.steps.length, 4, 'the warm-up, then one step per partition');
  assert.deepEqual(summary.steps.map((s) => s.partitions), [['dt=2026-11-01', 'dt=2026-11-02', 'dt=2026-11-03'], ['dt=2026-11-04'], ['dt=2026-11-05'], ['dt=2026-11-06']]);
  const lineage = (await findLineageByName(db, config.lineage))!;
  const decisions = (await listPromotions(db, lineage.id, 100)).reverse();
  assert.deepEqual(summary.steps.map((s) => s.decision), decisions.map((d) => d.decision));
  assert.deepEqual(summary.steps.map((s) => s.candidate), decisions.map((d) => d.candidate_metric));
  // Step k's decision is gated on step k's partition, scored by the champion it faced: the
  // same model and rows as the forward score measured before the step arrived.
  for (const [k, s] of summary.steps.entries()) {
    if (k === 0) continue;
    assert.equal(s.rows, 600);
    assert.ok(s.forward !== null && s.champion !== null && Math.abs(s.forward - s.champion) <= 1e-6 * s.champion, `step ${k}: forward ${s.forward} vs the gate's champion ${s.champion}`);
    assert.ok(s.forwardNaive !== null && s.forwardNaive > 0);
  }
  assert.equal(summary.checked, summary.steps.filter((s) => s.previousHeld).length);
  assert.equal(summary.right + summary.promotedButWorse + summary.rejectedButBetter, summary.checked);
  // Each step's wall time, split into its forward scoring and its retrain (where a backtest's time goes).
  assert.ok(summary.steps.every((s) => s.seconds!.retrain > 0 && s.seconds!.forward >= 0), JSON.stringify(summary.steps.map((s) => s.seconds)));
  const text = formatBacktest(summary);
  assert.match(text, /^step\s+partitions\s+rows\s+serving \(forward\)/);
  assert.match(text, /forward mse of what served: [\d.]+; naive baseline: [\d.]+; skill [+−][\d.]+%/);
  assert.match(text, /decisions checked on the next step: right \d+\/\d+/);
});

test('runBacktest: forward scores on every row past training.evalMaxRows; a fallback is checked against the constant that served; promoted-but-worse over checkable promotions', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-backtest-fallback-');
  const history = path.join(dir, 'history');
  // Labels that no feature explains: no model beats the constant, so eval.fallback serves it.
  for (let d = 1; d <= 6; d++) {
    const rng = new Rng(400 + d);
    const partition = path.join(history, `dt=2026-11-0${d}`);
    writeCsv(path.join(partition, 'part-0.csv'), Array.from({ length: 600 }, () => [rng.next(), rng.next(), rng.next(), rng.next(), 10 * rng.next()]));
    fs.writeFileSync(path.join(partition, '_SUCCESS'), '');
  }
  const config = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2', FRESHET_EVAL__FALLBACK: 'naive', FRESHET_TRAINING__EVAL_MAX_ROWS: '250' });
  const summary = await runBacktest({ sourceDir: history, config, db, warmup: 2, step: 1, log: createLogger({ level: 'error', format: 'json' }), signal: new AbortController().signal });
  assert.deepEqual(summary.steps.slice(1).map((s) => s.rows), [600, 600, 600, 600], 'every row of each step, not the first 250');
  const lineage = (await findLineageByName(db, config.lineage))!;
  const fallbacks = (await listPromotions(db, lineage.id, 100)).filter((p) => p.decision === 'fallback');
  assert.ok(fallbacks.length > 0 && summary.steps.some((s) => s.decision === 'fallback'), `no fallback: ${summary.steps.map((s) => s.decision).join(', ')}`);
  for (const [k, s] of summary.steps.entries()) {
    if (k === 0 || !s.previousHeld) continue;
    const before = summary.steps[k - 1]!;
    assert.equal(s.previousHeld.against, before.decision === 'fallback' ? 'constant' : 'champion', `step ${k}`);
    // After a fallback the constant served: the check compares the candidate with what served (the forward score).
    if (before.decision === 'fallback') assert.ok(Math.abs(s.previousHeld.champion - s.forward!) <= 1e-9 * s.forward!, `step ${k}: held against ${s.previousHeld.champion}, served ${s.forward}`);
  }
  assert.ok(summary.steps.some((s) => s.previousHeld?.against === 'constant'), `a fallback was checked on the step after it: ${summary.steps.map((s) => s.decision).join(', ')}`);
  assert.equal(summary.promotionsChecked, summary.steps.slice(0, -1).filter((s, k) => s.decision === 'promoted' && summary.steps[k + 1]!.previousHeld).length);
  assert.match(formatBacktest(summary), /what the decisions were worth on the next step: (−?\d+% of the forward gain a clairvoyant gate would have taken \(promoting every candidate: −?\d+%\)|no checked decision had a better candidate)/);
  assert.match(formatBacktest(summary), /promoted but worse \d+\/\d+ \(\d+%\) of the promotions that could be checked|promoted but worse - of the promotions that could be checked/);
});

test('runBacktest: a decision\'s check is also kept per partition of the next step, and the partitions add up to the whole', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-backtest-by-partition-');
  const history = path.join(dir, 'history');
  writeHistory(history, 5);
  const config = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2' });
  const summary = await runBacktest({ sourceDir: history, config, db, warmup: 1, step: 2, log: createLogger({ level: 'error', format: 'json' }), signal: new AbortController().signal });
  assert.deepEqual(summary.steps.map((s) => s.partitions), [['dt=2026-11-01'], ['dt=2026-11-02', 'dt=2026-11-03'], ['dt=2026-11-04', 'dt=2026-11-05']]);
  const held = summary.steps[2]!.previousHeld;
  assert.ok(held, 'step 1\'s decision is checked on step 2');
  assert.deepEqual(held.byPartition.map((p) => [p.partition, p.rows]), [['dt=2026-11-04', 600], ['dt=2026-11-05', 600]]);
  // The mean squared error is a mean over rows: the partitions' scores, weighted by their rows, are the whole step's.
  const weighted = (key: 'candidate' | 'champion') => held.byPartition.reduce((sum, p) => sum + p.rows * p[key], 0) / summary.steps[2]!.rows;
  assert.ok(Math.abs(weighted('candidate') - held.candidate) <= 1e-9 * held.candidate, `${weighted('candidate')} vs ${held.candidate}`);
  assert.ok(Math.abs(weighted('champion') - held.champion) <= 1e-9 * held.champion, `${weighted('champion')} vs ${held.champion}`);
  assert.notEqual(held.byPartition[0]!.candidate, held.byPartition[1]!.candidate, 'two days, two scores');
});

test('summarise: promoted-but-worse counts only promotions checked on a next step; a fallback is a rejection checked against the constant; what the decisions were worth', () => {
  const base = { partitions: [], forward: 1, forwardNaive: 2, rows: 10, candidate: 1, champion: 1, reason: '' };
  const held = (right: boolean, candidate: number, against: number, kind: 'champion' | 'constant' = 'champion') => ({ candidate, champion: against, against: kind, right, byPartition: [] });
  const summary = summarise('mae', [
    { ...base, step: 0, decision: 'promoted', previousHeld: null }, // the first model: faced nothing
    { ...base, step: 1, decision: 'fallback', previousHeld: null },
    { ...base, step: 2, decision: 'promoted', previousHeld: held(false, 0.9, 1, 'constant') }, // the fallback was wrong: the candidate beat the constant by 10%
    { ...base, step: 3, decision: 'promoted', previousHeld: held(false, 1.05, 1) }, // step 2's promotion was 5% worse
    { ...base, step: 4, decision: 'rejected', previousHeld: held(true, 0.8, 1) }, // step 3's promotion was 20% better
    { ...base, step: 5, decision: 'promoted', previousHeld: held(true, 1.02, 1) }, // step 4's rejection was right (2%); the last step's promotion: nothing after it
  ], 1);
  assert.equal(summary.promotions, 4);
  assert.equal(summary.promotionsChecked, 2, 'steps 2 and 3');
  assert.equal(summary.promotedButWorse, 1);
  assert.equal(summary.rejectedButBetter, 1, 'the fallback');
  assert.equal(summary.checked, 4);
  assert.equal(summary.right, 2);
  // Weighed by what was at stake: the promotions took −5% + 20%; promoting all 10% − 5% + 20% − 2%; a clairvoyant gate 10% + 20%.
  const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);
  close(summary.decisionGain.captured, 0.15, 'captured');
  close(summary.decisionGain.alwaysPromote, 0.23, 'promoting all');
  close(summary.decisionGain.clairvoyant, 0.3, 'clairvoyant');
  assert.equal(gainLine(summary), '50% of the forward gain a clairvoyant gate would have taken (promoting every candidate: 77%)');
  assert.equal(gainLine({ decisionGain: { captured: 0, alwaysPromote: -0.1, clairvoyant: 0 } }), 'no checked decision had a better candidate (nothing to gain)');
  assert.equal(gainLine({ decisionGain: { captured: -0.1, alwaysPromote: -0.2, clairvoyant: 0.4 } }), '−25% of the forward gain a clairvoyant gate would have taken (promoting every candidate: −50%)', 'worse than keeping every champion: a true minus sign');
  // auc: higher is better, the same relative gain.
  const auc = summarise('auc', [{ ...base, step: 0, decision: 'promoted', previousHeld: null }, { ...base, step: 1, decision: 'rejected', previousHeld: held(true, 0.75, 0.8) }], 1);
  close(auc.decisionGain.alwaysPromote, -0.0625, 'auc 0.75 against 0.8');
});

test('freshet backtest: --set names a key path; too short a history is a clear error', async () => {
  assert.deepEqual(setToEnvironment('eval.mustBeatNaive=false'), { FRESHET_EVAL__MUST_BEAT_NAIVE: 'false' });
  assert.deepEqual(setToEnvironment('retrain.base=last', { FRESHET_EVAL__HOLDOUT: 'random' }), { FRESHET_EVAL__HOLDOUT: 'random', FRESHET_RETRAIN__BASE: 'last' });
  assert.throws(() => setToEnvironment('eval.holdout'), /expected key=value/);
  const dir = tempDir('freshet-backtest-cli-');
  fs.chmodSync(dir, 0o755);
  writeHistory(path.join(dir, 'history'), 2);
  fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), 'columns:\n  features: [x0, x1, x2, x3]\n  label: y\n');
  const short = await runFreshet(['backtest', 'history', '--warmup', '3'], { env: cleanEnv(), cwd: dir });
  assert.equal(short.code, 2, short.stderr);
  assert.match(short.stderr, /holds 2 complete partitions; --warmup 3 and --step 1 need at least 4/);
  const badSet = await runFreshet(['backtest', 'history', '--set', 'nonsense'], { env: cleanEnv(), cwd: dir });
  assert.equal(badSet.code, 2);
  assert.match(badSet.stderr, /--set nonsense: expected key=value/);
});

test('the backtest progress: a bar on a terminal with each finished step above it; one line per step off a terminal', () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    const stream = Object.assign(new Writable({ write: (chunk, _encoding, done) => (chunks.push(String(chunk)), done()) }), { isTTY }) as unknown as NodeJS.WriteStream;
    return { stream, text: () => chunks.join('') };
  };
  const step = { step: 1, partitions: ['dt=2026-11-04'], forward: 1.5, forwardNaive: 3, rows: 10, decision: 'promoted' as const, candidate: 1, champion: 1.5, reason: '', previousHeld: null };
  const tty = capture(true);
  const bar = new BacktestProgress(tty.stream);
  bar.observer.onProgress!({ runId: '7', globalStep: 10, virtualEpoch: 1, stepInEpoch: 0, stepsPerEpoch: 10, targetEpochs: 4, loss: 1 });
  bar.step(step, 1, 4);
  bar.finish();
  assert.match(tty.text(), /\r\x1b\[2Kfreshet backtest: step 2\/4: promoted, serving 1\.5000 vs naive 3\.0000 forward\n/);
  assert.match(tty.text(), /\[#{12}\.{12}\] step 2\/4 · \d+ s, about \d+ s left/);
  assert.match(tty.text(), / · run 7 epoch 1\/4/);
  const plain = capture(false);
  const lines = new BacktestProgress(plain.stream);
  lines.step(step, 1, 4);
  lines.finish();
  assert.equal(plain.text(), 'freshet backtest: step 2/4: promoted, serving 1.5000 vs naive 3.0000 forward\n', 'no bar, no escape codes');
});

test('freshet backtest --save-warmup / --from-warmup: a backtest continued from a kept first model reports what the full replay reports; only retrain.* keys may differ', async () => {
  const dir = tempDir('freshet-backtest-warmup-');
  fs.chmodSync(dir, 0o755);
  writeHistory(path.join(dir, 'history'), 6);
  fs.writeFileSync(path.join(dir, 'freshet.config.yaml'), 'columns:\n  features: [x0, x1, x2, x3]\n  label: y\n');
  const fast = Object.fromEntries(Object.entries(trainEnv(dir, '')).filter(([key]) => key.startsWith('FRESHET_TRAINING__')));
  const env = cleanEnv({ ...fast, FRESHET_RETRAIN__SCHEDULE: '' });
  const backtest = async (name: string, ...extra: string[]) => {
    const run = await runFreshet(['backtest', 'history', '--warmup', '3', '--json', '--report', `${name}.json`, ...extra], { env, cwd: dir });
    assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  };
  // Wall times aside (and the options of the run itself), the reports must be the same to the last digit.
  const withoutTimes = (report: Record<string, unknown>) =>
    JSON.stringify({ ...report, seconds: 0, set: 0, steps: (report.steps as Array<Record<string, unknown>>).map((s) => ({ ...s, seconds: 0 })) });
  const full = await backtest('full', '--save-warmup', 'warm');
  assert.ok(fs.existsSync(path.join(dir, 'warm', 'state.json')), 'the warm-up was kept');
  assert.ok(!fs.readdirSync(dir).some((name) => name.includes('.partial-')), 'no half snapshot left beside it');
  const continued = await backtest('continued', '--from-warmup', 'warm');
  assert.equal(withoutTimes(continued), withoutTimes(full));
  // A policy that differs only after the warm-up: continued from the same first model, the same report as its own full replay.
  const shorter = await backtest('shorter', '--set', 'retrain.virtualEpochs=1', '--set', 'retrain.replayPartitions=1');
  const shorterContinued = await backtest('shorter-continued', '--from-warmup', 'warm', '--set', 'retrain.virtualEpochs=1', '--set', 'retrain.replayPartitions=1');
  assert.equal(withoutTimes(shorterContinued), withoutTimes(shorter));
  assert.notEqual(withoutTimes(shorter), withoutTimes(full), 'the retrain keys do change the later steps (else this test could not fail)');
  // From another folder (its own configuration file, the history through a link): the same first model, the same report.
  const elsewhere = path.join(dir, 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.copyFileSync(path.join(dir, 'freshet.config.yaml'), path.join(elsewhere, 'freshet.config.yaml'));
  fs.symlinkSync(path.join(dir, 'history'), path.join(elsewhere, 'history'));
  const moved = await runFreshet(['backtest', 'history', '--warmup', '3', '--json', '--report', 'moved.json', '--from-warmup', path.join(dir, 'warm')], { env, cwd: elsewhere });
  assert.equal(moved.code, 0, moved.stderr);
  const movedReport = JSON.parse(fs.readFileSync(path.join(elsewhere, 'moved.json'), 'utf8'));
  assert.equal(withoutTimes({ ...movedReport, source: full.source }), withoutTimes(full));
  // Anything the first model depends on must match; the folder is never overwritten.
  const other = await runFreshet(['backtest', 'history', '--warmup', '3', '--from-warmup', 'warm', '--set', 'eval.holdoutPartitions=2'], { env, cwd: dir });
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /--from-warmup .*warm: its first model was made with another history, warm-up or configuration; only retrain\.\* keys may differ:\n\s+eval\.holdoutPartitions: 1 → 2/);
  const again = await runFreshet(['backtest', 'history', '--warmup', '3', '--save-warmup', 'warm'], { env, cwd: dir });
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /--save-warmup warm exists: it is not overwritten/);
});
