// Baselines that mean something (issue #29, item 3): besides the median and the mean,
// eval.naive offers persistence (`last`, by eval.entityColumn), a seasonal lag
// (`seasonal:K`) and a baseline shipped in the data (`column:NAME`); the strongest is the
// one a decision is held to, the skill is measured against and (only if a constant) the
// fallback serves. Numbers are checked against a recomputation from the files themselves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { Rng } from '../src/core/rng.ts';
import { entityMeans, fallbackDecision, gateDecision, parseNaiveSpec, rowBaseline, servingSkill, type NaiveBaseline } from '../src/promotion/index.ts';
import { findLineageByName, listPromotions } from '../src/registry/index.ts';
import { runBacktest } from '../src/backtest/index.ts';
import { forwardCheckWords } from '../src/observability/status-report.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { tempDir } from './support/partitions.ts';
import { trainEnv } from './support/train-config.ts';

test('rowBaseline: persistence is each entity\'s mean label in its newest earlier partition (a later scored partition sees an earlier one), seasonal:K the one K before, column:NAME the row\'s own; a row with nothing gets the fill', () => {
  // Positions 0, 1 (history), 2 and 3 (scored). Entities 0 and 1; entity 2 is new.
  const labelled = [
    { position: Int32Array.of(0, 0, 1, 1, 1), entity: Float64Array.of(0, 1, 0, 0, 1), label: Float64Array.of(10, 20, 11, 13, 21) },
    { position: Int32Array.of(2, 2, 3, 3), entity: Float64Array.of(0, 2, 0, 1), label: Float32Array.of(100, 200, 300, 400) },
  ];
  const scored = { position: Int32Array.of(2, 2, 3, 3), entity: Float64Array.of(0, 2, 0, 1), columns: new Map([['forecast', Float64Array.of(5, Number.NaN, 7, 8)]]) };
  const last = rowBaseline({ kind: 'last' }, scored, entityMeans(labelled), -1);
  assert.deepEqual([...last.predictions], [12, -1, 100, 21], 'entity 0 at 2: mean(11, 13); entity 2: nothing; entity 0 at 3: the scored partition 2; entity 1 at 3: position 1');
  assert.equal(last.covered, 3);
  assert.equal(last.fill, -1);
  const seasonal = rowBaseline(parseNaiveSpec('seasonal:2') as { kind: 'seasonal'; lag: number }, scored, entityMeans(labelled), -1);
  assert.deepEqual([...seasonal.predictions], [10, -1, 12, 21], 'position 2 → 0, position 3 → 1');
  assert.equal(seasonal.name, 'seasonal:2');
  const column = rowBaseline({ kind: 'column', column: 'forecast' }, scored, entityMeans(labelled), -1);
  assert.deepEqual([...column.predictions], [5, -1, 7, 8]);
  assert.equal(column.covered, 3);
  // Without an entity column, the whole partition is one entity: persistence is yesterday's mean label.
  const whole = rowBaseline({ kind: 'last' }, { ...scored, entity: null }, entityMeans(labelled.map((l) => ({ ...l, entity: null }))), -1);
  assert.deepEqual([...whole.predictions], [15, 15, 150, 150]);
  assert.throws(() => parseNaiveSpec('seasonal'), /eval\.naive: seasonal is not median, mean, last, seasonal:K or column:NAME/);
});

const rules = loadConfig({ env: { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y' }, cwd: '/nonexistent' }).eval;

test('gateDecision against a per-row baseline: held to it while something that can serve beats it; it gives way when nothing can, but a candidate must still beat the constant the fallback would serve', () => {
  const persistence: NaiveBaseline = { name: 'last', value: null, metric: 1, covered: 100 };
  const median: NaiveBaseline = { name: 'median', value: 3, metric: 2 };
  const base = { metric: 'mae' as const, interval: null, evalRows: 100, naive: persistence, naiveConstant: median };
  // The champion beats persistence: a candidate that does not is rejected, persistence named.
  const held = gateDecision({ ...base, candidate: 1.5, champion: 0.9 }, rules);
  assert.equal(held.promote, false);
  assert.match(held.reason, /does no better than the naive baseline, persistence \(last\) \(1\.0000\): not promoted \(eval\.mustBeatNaive\)/);
  // No champion; persistence cannot serve: a candidate between the two serves (better than the constant the fallback would serve).
  const between = gateDecision({ ...base, candidate: 1.5, champion: null }, rules);
  assert.equal(between.promote, true, between.reason);
  assert.match(between.reason, /persistence \(last\) \(1\.0000\), which cannot serve: the best that can serves/);
  // … but not one worse than that constant.
  const worse = gateDecision({ ...base, candidate: 2.5, champion: null }, rules);
  assert.equal(worse.promote, false);
  assert.match(worse.reason, /does no better than persistence \(last\) \(1\.0000\) nor the median 3\.0000 \(2\.0000\)/);
  // With eval.fallback none the same holds: a first model no better than the best constant does not serve (as with constants alone).
  assert.equal(gateDecision({ ...base, candidate: 2.5, champion: null }, { ...rules, fallback: 'none' }).promote, false);
  assert.equal(gateDecision({ ...base, candidate: 1.5, champion: null }, { ...rules, fallback: 'none' }).promote, true);
  // Against a champion that loses to persistence too, the usual comparison decides.
  assert.equal(gateDecision({ ...base, candidate: 1.2, champion: 1.5 }, { ...rules, confidence: 0 }).promote, true);
  assert.equal(gateDecision({ ...base, candidate: 1.6, champion: 1.5 }, { ...rules, confidence: 0 }).promote, false);
  // The fallback serves only a constant: handed a per-row baseline it does nothing.
  assert.equal(fallbackDecision({ metric: 'mae', candidatePromoted: false, champion: 5, championConstant: null, naive: persistence, evalRows: 100 }, { fallback: 'naive' }), undefined);
  assert.equal(fallbackDecision({ metric: 'mae', candidatePromoted: false, champion: 5, championConstant: null, naive: median, evalRows: 100 }, { fallback: 'naive' })?.serve.value, 3);
});

test('eval.naive and eval.entityColumn are checked when the configuration loads', () => {
  const env = { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y' };
  assert.throws(() => loadConfig({ env: { ...env, FRESHET_EVAL__NAIVE: '["seasonal:0"]' }, cwd: '/nonexistent' }), /eval\.naive\.0: expected median, mean, last, seasonal:K \(K a whole number of partitions\) or column:NAME/);
  assert.throws(() => loadConfig({ env: { ...env, FRESHET_EVAL__NAIVE: '["column:y"]' }, cwd: '/nonexistent' }), /eval\.naive\.0: column:y: the label itself cannot be its own baseline/);
  assert.throws(() => loadConfig({ env: { ...env, FRESHET_EVAL__ENTITY_COLUMN: 'y' }, cwd: '/nonexistent' }), /eval\.entityColumn: y is the label/);
  assert.deepEqual(loadConfig({ env, cwd: '/nonexistent' }).eval.naive, ['median', 'mean']);
});

/**
 * 20 stations, 3 rows each per day. A station's level walks from day to day (persistence
 * knows it, the feature x does not); `forecast` is the label plus a little noise (a
 * forecast in production that beats anything); one row of the last day has no x (invalid:
 * skipped by models and baselines alike) and one has no forecast (it gets the fill).
 */
function writeDay(dataDir: string, day: number, levels: number[]): void {
  const rng = new Rng(70 + day);
  for (let s = 0; s < levels.length; s++) levels[s] = levels[s]! + (rng.next() - 0.5) * 2;
  const rows: string[] = [];
  for (let s = 0; s < levels.length; s++) {
    for (let k = 0; k < 3; k++) {
      const x = rng.next() * 2 - 1;
      const y = levels[s]! + x + (rng.next() - 0.5) * 0.2;
      const forecast = y + (rng.next() - 0.5) * 0.1;
      const last = day === 8;
      rows.push(`${last && s === 3 && k === 0 ? '' : x.toFixed(4)},st${s},${last && s === 5 && k === 1 ? '' : forecast.toFixed(4)},${y.toFixed(4)}`);
    }
  }
  const dir = path.join(dataDir, `dt=2026-11-${String(day).padStart(2, '0')}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'part-0.csv'), `x,station,forecast,y\n${rows.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

/** The valid rows (x and y present) of a day, read back from its file. */
function readDay(dataDir: string, day: number): Array<{ station: string; forecast: number; y: number }> {
  const text = fs.readFileSync(path.join(dataDir, `dt=2026-11-${String(day).padStart(2, '0')}`, 'part-0.csv'), 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','))
    .filter(([x, , , y]) => x !== '' && y !== '')
    .map(([, station, forecast, y]) => ({ station: station!, forecast: forecast === '' ? Number.NaN : Number(forecast), y: Number(y) }));
}

function stationMeans(rows: ReadonlyArray<{ station: string; y: number }>): Map<string, number> {
  const sums = new Map<string, [number, number]>();
  for (const r of rows) {
    const s = sums.get(r.station) ?? [0, 0];
    sums.set(r.station, [s[0] + r.y, s[1] + 1]);
  }
  return new Map([...sums].map(([k, [s, n]]) => [k, s / n]));
}

/** The stations' days 1…`days` in a new lineage with these eval settings, registered and gated once: the first decision. */
async function firstDecision(prefix: string, days: number, evalEnv: Record<string, string>) {
  const { db, url } = await createTestDatabase();
  const dir = tempDir(prefix);
  const env = { ...trainEnv(dir, url), FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y', FRESHET_EVAL__METRIC: 'mae', FRESHET_EVAL__ENTITY_COLUMN: 'station', ...evalEnv };
  const config = loadConfig({ env, cwd: dir });
  const levels = Array.from({ length: 20 }, (_, s) => s * 2);
  for (let d = 1; d <= days; d++) writeDay(config.dataDir, d, levels);
  await new PartitionWatcher({ db, config, log: createLogger({ level: 'error', format: 'json' }) }).scan();
  const run = (await runRetrainJob(db, config))!;
  const [decision] = await listPromotions(db, run.lineage_id);
  return { config, decision: decision! };
}

test('a gate with eval.naive last, seasonal:2 and column:forecast: each scored on the gate rows as the files say, the strongest held to, recorded without a constant, and the skill measured against it', async () => {
  const { config, decision } = await firstDecision('freshet-naive-', 8, { FRESHET_EVAL__NAIVE: '["median", "mean", "last", "seasonal:2", "column:forecast"]' });
  assert.deepEqual(decision!.eval_partition_ids.length, 1, 'the gate: the newest day');
  const baselines = decision!.naive_baselines as Array<{ name: string; value: number | null; metric: number; covered?: number; fill?: number }>;
  assert.deepEqual(baselines.map((b) => b.name), ['median', 'mean', 'last', 'seasonal:2', 'column:forecast']);
  // Recomputed from the files: the gate day's valid rows (one without x is skipped), persistence from day 7, seasonal from day 6.
  const gate = readDay(config.dataDir, 8);
  assert.equal(gate.length, 59);
  assert.equal(Number(decision!.eval_rows), 59);
  const mae = (predict: (row: (typeof gate)[number]) => number): number => gate.reduce((sum, row) => sum + Math.abs(row.y - predict(row)), 0) / gate.length;
  const byName = new Map(baselines.map((b) => [b.name, b]));
  const day7 = stationMeans(readDay(config.dataDir, 7));
  const day6 = stationMeans(readDay(config.dataDir, 6));
  const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-4, `${what}: recorded ${a}, recomputed ${b}`);
  close(byName.get('last')!.metric, mae((r) => day7.get(r.station)!), 'persistence');
  close(byName.get('seasonal:2')!.metric, mae((r) => day6.get(r.station)!), 'seasonal:2');
  const fill = byName.get('column:forecast')!.fill!;
  close(byName.get('column:forecast')!.metric, mae((r) => (Number.isNaN(r.forecast) ? fill : r.forecast)), 'column:forecast');
  assert.equal(byName.get('column:forecast')!.covered, 58, 'one row has no forecast');
  assert.equal(byName.get('last')!.value, null);
  // The strongest is the forecast: recorded as the decision's baseline, with no constant.
  assert.equal(decision!.naive_name, 'column:forecast');
  assert.equal(decision!.naive_value, null);
  close(decision!.naive_metric!, byName.get('column:forecast')!.metric, 'naive_metric');
  // The forecast cannot serve and nothing that can beats it: the candidate is held to the best constant instead —
  // this small first model (x alone, blind to the stations) does not beat it either, so nothing serves (eval.fallback none).
  const constant = baselines.filter((b) => b.value !== null).reduce((a, b) => (b.metric < a.metric ? b : a));
  assert.ok(decision!.candidate_metric! > constant.metric, `candidate ${decision!.candidate_metric} vs the ${constant.name} ${constant.metric}`);
  assert.equal(decision!.decision, 'rejected', decision!.reason);
  assert.match(decision!.reason, new RegExp(`does no better than the data's own baseline \\(column:forecast\\) \\([\\d.]+\\) nor the ${constant.name} [\\d.]+ \\([\\d.]+\\): not promoted \\(eval\\.mustBeatNaive\\)`));
});

test('the serving skill against a per-row baseline: named as such, with no constant', () => {
  const decision = { decision: 'promoted', metric_name: 'mae', candidate_metric: 2, champion_metric: 3, naive_name: 'last', naive_value: null, naive_metric: 1 } as unknown as Parameters<typeof servingSkill>[0];
  const skill = servingSkill(decision)!;
  assert.equal(skill.naiveDescribed, 'persistence (last)');
  assert.equal(skill.naiveValue, null);
  assert.equal(skill.skill, -1, '1 − 2 ÷ 1');
  assert.equal(skill.beatsNaive, false);
  const words = forwardCheckWords({ ...skill, holdout: 'newest' } as Parameters<typeof forwardCheckWords>[0]);
  assert.match(words.summary, /vs persistence \(last\)'s 1\.0000/);
  assert.match(words.warning!, /persistence \(last\) does as well; it is not worth serving/);
});

test('the backtest scores each step against the baseline the newest decision was held to, persistence included, from the labels before the step', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-naive-backtest-');
  const history = path.join(dir, 'history');
  const levels = Array.from({ length: 20 }, (_, s) => s * 2);
  for (let d = 1; d <= 10; d++) writeDay(history, d, levels);
  const config = loadConfig({
    env: { ...trainEnv(dir, url), FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__LABEL: 'y', FRESHET_EVAL__METRIC: 'mae', FRESHET_EVAL__NAIVE: '["median", "last"]', FRESHET_EVAL__ENTITY_COLUMN: 'station', FRESHET_EVAL__FALLBACK: 'naive' },
    cwd: dir,
  });
  const summary = await runBacktest({ sourceDir: history, config, db, warmup: 7, step: 1, log: createLogger({ level: 'error', format: 'json' }), signal: new AbortController().signal });
  assert.equal(summary.steps.length, 4);
  const lineage = (await findLineageByName(db, config.lineage))!;
  const decisions = (await listPromotions(db, lineage.id)).reverse(); // oldest first
  for (let i = 1; i < summary.steps.length; i++) {
    const step = summary.steps[i]!;
    const day = 7 + i;
    const heldTo = decisions.filter((p) => p.decision !== 'fallback')[i - 1]!;
    assert.equal(heldTo.naive_name, 'last', `step ${i}: persistence is the strongest (the stations' levels are far apart; x is all the model sees)`);
    const before = stationMeans(readDay(history, day - 1));
    const rows = readDay(history, day);
    const persistence = rows.reduce((sum, r) => sum + Math.abs(r.y - before.get(r.station)!), 0) / rows.length;
    assert.ok(Math.abs(step.forwardNaive! - persistence) < 1e-4, `step ${i} (day ${day}): forward naive ${step.forwardNaive}, persistence recomputed ${persistence}`);
  }
  // What served (a model blind to the stations, or the median the fallback serves instead) loses to persistence forward.
  assert.ok(summary.skill! < 0, `skill ${summary.skill}`);
});

test('on the random holdout (validation rows of the partitions trained on) persistence is scored too, each row from the partitions before its own', async () => {
  const { decision } = await firstDecision('freshet-naive-random-', 3, { FRESHET_EVAL__HOLDOUT: 'random', FRESHET_EVAL__NAIVE: '["median", "last"]' });
  assert.equal(decision!.holdout, 'random');
  const baselines = decision!.naive_baselines as Array<{ name: string; metric: number; covered?: number }>;
  const last = baselines.find((b) => b.name === 'last')!;
  const median = baselines.find((b) => b.name === 'median')!;
  const rows = Number(decision!.eval_rows);
  // Day 1's validation rows have nothing before them (they get the median); days 2 and 3's have the day before.
  assert.ok(last.covered! > 0 && last.covered! < rows, `covered ${last.covered} of ${rows}`);
  assert.ok(last.metric < median.metric, `persistence ${last.metric} beats the median ${median.metric}: the stations' levels are far apart`);
  assert.equal(decision!.naive_name, 'last');
});
