// The forward gate's pure parts, on known numbers: the holdout split, the naive baselines
// and skill, the paired block bootstrap (reproducible from its seed), and the gate's rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../src/core/config.ts';
import { blockStarts, gateDecision, gateScores, meanLossImprovement, median, naiveConstants, pairedBlockBootstrap, skill } from '../src/promotion/index.ts';
import { splitHoldout } from '../src/retrain/holdout.ts';
import type { TrainingPartition } from '../src/trainer/index.ts';
import { listPromotions } from '../src/registry/index.ts';
import { statusReport } from '../src/observability/index.ts';
import { formatStatus } from '../src/cli/status-text.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

// The gate's rules with the champion kept when a candidate loses (the fallback is tested in naive-fallback.test.ts).
const rules = { ...configSchema.parse({}).eval, fallback: 'none' as const };
const partition = (id: number, p: string, arrivedSecond = id): TrainingPartition & { arrivedAt: Date } => ({ id: String(id), path: p, dir: `/d/${p}`, files: [], rows: 10, arrivedAt: new Date(arrivedSecond * 1000) });

test('holdout newest keeps the newest partition by key out; random and a single fresh partition keep it in', () => {
  const fresh = [partition(3, 'dt=2026-03-02'), partition(1, 'dt=2026-03-03'), partition(2, 'dt=2026-03-01')];
  const split = splitHoldout(fresh, rules);
  assert.equal(split.holdout, 'newest');
  assert.deepEqual(split.gate.map((p) => p.path), ['dt=2026-03-03'], 'by key, not by id or arrival');
  assert.deepEqual(split.train.map((p) => p.path).sort(), ['dt=2026-03-01', 'dt=2026-03-02']);
  assert.deepEqual(splitHoldout(fresh, { ...rules, holdoutPartitions: 2 }).gate.map((p) => p.path).sort(), ['dt=2026-03-02', 'dt=2026-03-03']);

  const single = splitHoldout([partition(1, 'dt=2026-03-01')], rules);
  assert.equal(single.holdout, 'random');
  assert.equal(single.gate.length, 0);
  assert.equal(single.train.length, 1, 'a single fresh partition is trained on, not withheld');
  assert.match(single.note, /only 1 fresh partition.*as eval.holdout random/);

  const random = splitHoldout(fresh, { ...rules, holdout: 'random' });
  assert.deepEqual([random.holdout, random.gate.length, random.train.length], ['random', 0, 3]);
});

test('holdout newest on paths without a key=value order goes by registration time', () => {
  const fresh = [partition(1, 'batch-b', 30), partition(2, 'batch-a', 50), partition(3, 'batch-c', 10)];
  const split = splitHoldout(fresh, rules);
  assert.deepEqual(split.gate.map((p) => p.path), ['batch-a'], 'registered last');
  assert.match(split.note, /registration time/);
});

test('naive baselines: median and mean for regression, the base rate for binary; skill', () => {
  assert.equal(median(Float64Array.of(5, 1, 3)), 3);
  assert.equal(median(Float64Array.of(4, 1, 3, 2)), 2.5);
  assert.deepEqual(naiveConstants('regression', Float64Array.of(1, 2, 3, 10)), [{ name: 'median', value: 2.5 }, { name: 'mean', value: 4 }]);
  assert.deepEqual(naiveConstants('binary', Float64Array.of(0, 1, 1, 1)), [{ name: 'base-rate', value: 0.75 }]);
  assert.deepEqual(naiveConstants('regression', new Float64Array(0)), []);
  assert.ok(Math.abs(skill('mae', 9, 10)! - 0.1) < 1e-12);
  assert.ok(skill('mae', 11, 10)! < 0, 'worse than the constant: negative skill');
  assert.equal(skill('auc', 0.75, 0.5), 0.5);
  assert.equal(skill('mae', null, 10), null);
});

test('gate scores: the naive baseline held to is the better constant on the gate rows', () => {
  const y = Float32Array.of(0, 0, 0, 0, 100); // median 0 wins on MAE, the mean 20 on nothing
  const scores = gateScores({ metric: 'mae', task: 'regression', y, candidate: new Float32Array(5).fill(1), champion: null, naiveConstants: [{ name: 'median', value: 0 }, { name: 'mean', value: 20 }], rules, seed: 1 });
  assert.equal(scores.naive!.name, 'median');
  assert.equal(scores.naive!.metric, 20);
  assert.equal(scores.naiveAll.length, 2);
  assert.equal(scores.candidate, (4 * 1 + 99) / 5);
  assert.equal(scores.interval, null, 'no champion: nothing to bootstrap');
});

test('the paired block bootstrap is reproducible from its seed and resamples blocks, not rows', () => {
  assert.deepEqual(Array.from(blockStarts(10, 3)), [0, 3, 7, 10]);
  assert.deepEqual(Array.from(blockStarts(2, 20)), [0, 1, 2], 'never more blocks than rows');
  // The candidate is better on every block but by varying amounts; a clear gain.
  const n = 2000;
  const candidate = new Float64Array(n);
  const champion = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    candidate[i] = 1 + Math.sin(i);
    champion[i] = candidate[i]! + 0.1 + 0.05 * Math.cos(i / 50);
  }
  const run = (seed: number) => pairedBlockBootstrap({ rows: n, blocks: 20, samples: 500, confidence: 0.9, seed, improvementOf: meanLossImprovement(candidate, champion, 20) });
  assert.deepEqual(run(7), run(7), 'same seed, same interval');
  const interval = run(7);
  assert.ok(Math.abs(interval.improvement - 0.1) < 0.01);
  assert.ok(interval.low > 0 && interval.low <= interval.improvement && interval.high >= interval.improvement);
  assert.equal(interval.blocks, 20);

  // A gain that is all in one block of twenty (one good day) is not clearly a gain.
  const lucky = Float64Array.from(candidate);
  for (let i = 0; i < n / 20; i++) lucky[i] = lucky[i]! - 2;
  const onOneDay = pairedBlockBootstrap({ rows: n, blocks: 20, samples: 500, confidence: 0.9, seed: 7, improvementOf: meanLossImprovement(lucky, candidate, 20) });
  assert.ok(onOneDay.improvement > 0, 'better on average');
  assert.ok(onOneDay.low <= 0, `but the lower bound ${onOneDay.low} does not clear 0`);
});

test('gate rules: a candidate that loses to the naive baseline or whose gain is not clear is rejected, saying why', () => {
  const base = { metric: 'mae' as const, evalRows: 1000, interval: null };
  const naive = { name: 'median', value: 3, metric: 17.06 };
  const losesToNaive = gateDecision({ ...base, candidate: 17.14, champion: null, naive }, rules);
  assert.equal(losesToNaive.promote, false);
  assert.match(losesToNaive.reason, /does no better than the naive baseline, the median 3\.0000 \(17\.060\).*eval\.mustBeatNaive/);
  assert.equal(gateDecision({ ...base, candidate: 17.14, champion: null, naive }, { ...rules, mustBeatNaive: false }).promote, true, 'the rule can be turned off');
  assert.equal(gateDecision({ ...base, candidate: 16, champion: null, naive }, rules).promote, true);
  // A champion that loses to the constant by more than the candidate does is not kept for
  // that reason (with eval.fallback none: the constant will not serve).
  const bothLose = gateDecision({ ...base, candidate: 17.14, champion: 18.2, naive }, rules);
  assert.equal(bothLose.promote, true);
  assert.match(bothLose.reason, /better by 1\.06.*both lose to the naive baseline/);
  assert.equal(gateDecision({ ...base, candidate: 17.14, champion: 16.9, naive }, rules).promote, false, 'against a champion that beats the constant, the rule holds');
  assert.equal(gateDecision({ ...base, candidate: 17.14, champion: 18.2, naive }, { ...rules, fallback: 'naive' }).promote, false, 'with the constant as fallback, it serves instead');

  const interval = { improvement: 0.5, low: -0.1, high: 1.1, confidence: 0.9, blocks: 20 };
  const unclear = gateDecision({ ...base, candidate: 15, champion: 15.5, naive, interval }, rules);
  assert.equal(unclear.promote, false);
  assert.match(unclear.reason, /not clearly.*lower bound -0\.10000 is not above 0.*90% block-bootstrap interval/);
  const clear = gateDecision({ ...base, candidate: 15, champion: 15.5, naive, interval: { ...interval, low: 0.2 } }, rules);
  assert.equal(clear.promote, true);
  assert.match(clear.reason, /interval of the gain 0\.20000 … 1\.1000 over 20 blocks/);
});

test('forward gate on real training: a candidate that fits its period better but serves the next one worse is rejected by holdout newest, promoted by random', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-forward-');
  const common = {
    FRESHET_TRAINING__NUM_CHECKPOINTS: '6',
    FRESHET_TRAINING__STOP_POINT: '4',
    FRESHET_TRAINING__LEARNING_RATE: '0.01',
    FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
    FRESHET_RETRAIN__VIRTUAL_EPOCHS: '6',
    FRESHET_RETRAIN__REPLAY_PARTITIONS: '0',
    FRESHET_RETRAIN__BASE: 'last',
    FRESHET_EVAL__MIN_IMPROVEMENT: '0',
    FRESHET_EVAL__CONFIDENCE: '0',
  };
  const lineages = {
    newest: trainConfig(dir, url, { ...common, FRESHET_LINEAGE: 'newest', FRESHET_SERVING_DIR: `${dir}/serving-newest`, FRESHET_EVAL__HOLDOUT: 'newest' }),
    random: trainConfig(dir, url, { ...common, FRESHET_LINEAGE: 'random', FRESHET_SERVING_DIR: `${dir}/serving-random`, FRESHET_EVAL__HOLDOUT: 'random' }),
  };
  const dataDir = lineages.newest.dataDir;
  for (let d = 1; d <= 3; d++) await addPartition(db, dataDir, `2026-11-0${d}`, syntheticRows(1500, d));
  for (const config of Object.values(lineages)) await runRetrainJob(db, config);
  // The next period drifts far (the features move by 3), then comes back: a model that
  // learns the drift fits its own period better and serves the one after worse.
  await addPartition(db, dataDir, '2026-11-04', syntheticRows(1500, 4, 3));
  await addPartition(db, dataDir, '2026-11-05', syntheticRows(1500, 5));
  // The random lineage's first run trained on 11-03 already; the newest one's gated on it.
  const decisions: Record<string, { decision: string; reason: string; holdout: string | null }> = {};
  for (const [name, config] of Object.entries(lineages)) {
    const run = (await runRetrainJob(db, config))!;
    const decision = (await listPromotions(db, run.lineage_id))[0]!;
    decisions[name] = { decision: decision.decision, reason: decision.reason, holdout: decision.holdout };
    const roles = await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'run_partitions.partition_id').select(['role', 'path']).where('run_id', '=', run.id).execute();
    if (name === 'newest') {
      assert.ok(!roles.some((r) => r.path === 'dt=2026-11-05' && r.role !== 'gate'), 'the holdout partition is never trained or validated on');
      assert.ok(roles.some((r) => r.path === 'dt=2026-11-03' && r.role === 'train'), 'the first run\'s holdout is learned by the next retrain');
    }
  }
  assert.equal(decisions.random!.holdout, 'random');
  assert.equal(decisions.random!.decision, 'promoted', `in-period the drifted candidate wins: ${decisions.random!.reason}`);
  assert.equal(decisions.newest!.holdout, 'newest');
  assert.equal(decisions.newest!.decision, 'rejected', `forward it loses: ${decisions.newest!.reason}`);
  assert.match(decisions.newest!.reason, /all rows of dt=2026-11-05, which it did not train on.*worse by/);
});

test('a first model that does no better than the constant is not promoted, and the decision says so', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-naive-');
  // Pure noise: the label has nothing to do with the features, so the median is as good as it gets.
  const noise = (count: number, seed: number) => syntheticRows(count, seed).map((row, i) => [...row.slice(0, -1), ((i * 7919 + seed * 104729) % 1000) / 100]);
  const config = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_MODEL__LOSS: 'mae', FRESHET_EVAL__METRIC: 'mae' });
  for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, noise(1000, d));
  const run = (await runRetrainJob(db, config))!;
  const decision = (await listPromotions(db, run.lineage_id))[0]!;
  assert.equal(decision.decision, 'rejected', decision.reason);
  assert.match(decision.reason, /does no better than the naive baseline, the (median|mean)/);
  assert.ok(decision.naive_metric! <= decision.candidate_metric!);
  const naive = decision.naive_baselines as Array<{ name: string; value: number; metric: number }>;
  assert.deepEqual(naive.map((b) => b.name), ['median', 'mean']);

  // Served anyway (the rule turned off), such a model is flagged in `freshet status`.
  await addPartition(db, config.dataDir, '2026-11-04', noise(1000, 4));
  const served = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_MODEL__LOSS: 'mae', FRESHET_EVAL__METRIC: 'mae', FRESHET_EVAL__MUST_BEAT_NAIVE: 'false' });
  await runRetrainJob(db, served);
  const report = await statusReport(db, served);
  assert.equal(report.forwardCheck?.beatsNaive, false);
  assert.ok(report.forwardCheck!.skill! <= 0);
  assert.match(formatStatus(report), /WARNING: the serving model does not beat its naive baseline/);
});

test('the bootstrap for auc recomputes the auc on each resample: a clear gain clears, a coin flip does not, and the seed fixes it', () => {
  const n = 400;
  const y = Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
  // The candidate ranks positives above negatives almost always; the champion is a coin flip.
  const good = Float32Array.from({ length: n }, (_, i) => (y[i] === 1 ? 0.6 : 0.4) + ((i * 7919) % 100) / 1000);
  const coin = Float32Array.from({ length: n }, (_, i) => ((i * 104729) % 997) / 997);
  const common = { metric: 'auc' as const, task: 'binary' as const, y, naiveConstants: [{ name: 'base-rate' as const, value: 0.5 }], rules: { ...rules, bootstrapSamples: 300 }, seed: 3 };
  const clear = gateScores({ ...common, candidate: good, champion: coin });
  assert.ok(clear.candidate > 0.95 && Math.abs(clear.champion! - 0.5) < 0.1, `${clear.candidate} vs ${clear.champion}`);
  assert.ok(clear.interval!.low > 0.3, `a clear gain's lower bound is well above 0: ${clear.interval!.low}`);
  assert.deepEqual(gateScores({ ...common, candidate: good, champion: coin }).interval, clear.interval, 'same seed, same interval');
  const flip = gateScores({ ...common, candidate: coin, champion: Float32Array.from(coin).reverse() });
  assert.ok(flip.interval!.low <= 0, `two coin flips: no clear gain (${flip.interval!.low} … ${flip.interval!.high})`);
  assert.ok(flip.interval!.high - flip.interval!.low < 0.2, 'and a narrow interval: 400 rows');
  assert.equal(gateDecision({ metric: 'auc', candidate: flip.candidate, champion: flip.champion, naive: null, interval: flip.interval, evalRows: n }, { ...rules, minImprovement: 0 }).promote, false);
});

test('eval.holdoutPartitions 2 through a real run: the two newest fresh partitions are the gate rows, the rest trained on; the next retrain learns them', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-holdout-2-');
  const config = trainConfig(dir, url, { FRESHET_EVAL__HOLDOUT_PARTITIONS: '2', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '1', FRESHET_RETRAIN__REPLAY_PARTITIONS: '0' });
  for (let d = 1; d <= 4; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(600, d));
  const roles = async (runId: string) =>
    Object.fromEntries((await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'run_partitions.partition_id').select(['role', 'path']).where('run_id', '=', runId).where('role', 'in', ['train', 'gate']).execute()).map((r) => [r.path, r.role]));
  const first = (await runRetrainJob(db, config))!;
  assert.deepEqual(await roles(first.id), { 'dt=2026-11-01': 'train', 'dt=2026-11-02': 'train', 'dt=2026-11-03': 'gate', 'dt=2026-11-04': 'gate' });
  const decision = (await listPromotions(db, first.lineage_id))[0]!;
  assert.equal(Number(decision.eval_rows), 1200, 'every row of both gate partitions');
  assert.match(decision.reason, /all rows of dt=2026-11-03, dt=2026-11-04, which it did not train on/);
  for (let d = 5; d <= 7; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(600, d));
  const second = (await runRetrainJob(db, config))!;
  const secondRoles = await roles(second.id);
  assert.equal(secondRoles['dt=2026-11-06'], 'gate');
  assert.equal(secondRoles['dt=2026-11-07'], 'gate');
  for (const p of ['dt=2026-11-03', 'dt=2026-11-04', 'dt=2026-11-05']) assert.equal(secondRoles[p], 'train', `${p} is learned by the next retrain`);
});

test('gate rows beyond training.evalMaxRows: a uniform sample of every held-out partition, and the decision says so', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-gate-sample-');
  const config = trainConfig(dir, url, { FRESHET_EVAL__HOLDOUT_PARTITIONS: '2', FRESHET_TRAINING__EVAL_MAX_ROWS: '500' });
  for (let d = 1; d <= 4; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(600, d));
  const run = (await runRetrainJob(db, config))!;
  const decision = (await listPromotions(db, run.lineage_id))[0]!;
  assert.equal(Number(decision.eval_rows), 500, 'the bound');
  // Before, the gate scored the first 500 rows: most of dt=2026-11-03 and nothing of dt=2026-11-04, while the reason said "all rows".
  assert.match(decision.reason, /500 gate rows \(a uniform sample, training\.evalMaxRows, of the 1200 rows of dt=2026-11-03, dt=2026-11-04, which it did not train on\)/);
});
