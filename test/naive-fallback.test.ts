// eval.fallback naive: when no model beats the constant a person would try first, freshet
// serves that constant itself, exported like any version, until a model beats it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../src/core/config.ts';
import { fallbackDecision } from '../src/promotion/index.ts';
import { CHAMPION, getAliasedVersion, listPromotions } from '../src/registry/index.ts';
import { currentServingVersion } from '../src/serving/index.ts';
import { lineageGateSet, registeredPartitions, tf } from '../src/trainer/index.ts';
import { createMetrics, recordDecision, renderStatusPage, statusReport } from '../src/observability/index.ts';
import { formatStatus } from '../src/cli/status-text.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';
import { serveFolder } from './support/serve-folder.ts';

const rules = { ...configSchema.parse({}).eval, fallback: 'naive' as const };
const naive = { name: 'median' as const, value: 3, metric: 10 };
const input = { metric: 'mae' as const, candidatePromoted: false, champion: 12, championConstant: null, naive, evalRows: 100 };

test('the fallback rule: only with eval.fallback naive, a rejected candidate, and a champion no better than the constant', () => {
  assert.match(fallbackDecision(input, rules)!.reason, /champion's mae 12\.000 on the same rows does no better than the naive baseline, the median 3\.0000 \(mae 10\.000 on 100 gate rows\)/);
  assert.match(fallbackDecision({ ...input, champion: null }, rules)!.reason, /no model beats the naive baseline/);
  assert.equal(fallbackDecision({ ...input, champion: 10 }, rules)!.serve.value, 3, 'a tie does not beat the constant');
  assert.equal(fallbackDecision(input, { fallback: 'none' }), undefined, 'off with eval.fallback none');
  assert.equal(configSchema.parse({}).eval.fallback, 'naive', 'on by default (issue #29: BENCHMARKS.md › The fallback to the constant as the default)');
  assert.equal(fallbackDecision({ ...input, candidatePromoted: true }, rules), undefined, 'a promoted model serves');
  assert.equal(fallbackDecision({ ...input, champion: 9.9 }, rules), undefined, 'a champion that beats the constant keeps serving');
  assert.equal(fallbackDecision({ ...input, championConstant: 3 }, rules), undefined, 'already serving that constant');
  assert.ok(fallbackDecision({ ...input, championConstant: 2.5 }, rules), 'a better constant replaces the served one');
  assert.equal(fallbackDecision({ ...input, naive: null }, rules), undefined);
  assert.equal(fallbackDecision({ ...input, evalRows: 0 }, rules), undefined);
  assert.equal(fallbackDecision({ ...input, metric: 'auc', champion: 0.6, naive: { name: 'median', value: 0.5, metric: 0.5 } }, rules), undefined, 'auc: higher is better');
});

test('with eval.fallback naive, a lineage whose models lose to the constant serves the constant, exported, until a model beats it', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-fallback-');
  // Pure noise first: the label has nothing to do with the features.
  const noise = (count: number, seed: number) => syntheticRows(count, seed).map((row, i) => [...row.slice(0, -1), ((i * 7919 + seed * 104729) % 1000) / 100]);
  const env = { FRESHET_TRAINING__NUM_CHECKPOINTS: '4', FRESHET_TRAINING__STOP_POINT: '2', FRESHET_MODEL__LOSS: 'mae', FRESHET_EVAL__METRIC: 'mae', FRESHET_EVAL__FALLBACK: 'naive' };
  const config = trainConfig(dir, url, env);
  for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, noise(1000, d));
  const run = (await runRetrainJob(db, config))!;
  const [fallback, rejected] = await listPromotions(db, run.lineage_id);
  assert.equal(rejected!.decision, 'rejected', 'the model candidate itself is rejected');
  assert.equal(fallback!.decision, 'fallback', fallback!.reason);
  assert.equal(fallback!.run_id, run.id);
  assert.match(fallback!.reason, /no model beats the naive baseline, the (median|mean)/);
  const v1 = (await getAliasedVersion(db, run.lineage_id, CHAMPION))!;
  assert.equal(fallback!.candidate_version_id, v1.id);
  assert.equal(v1.constant, rejected!.naive_value);
  assert.equal(v1.constant_name, rejected!.naive_name);
  assert.equal(v1.eval_metric, rejected!.naive_metric);
  assert.equal(currentServingVersion(config), 1, 'exported and current');

  // The export is an ordinary LayersModel that predicts the constant for any input.
  const served = await serveFolder(path.join(config.servingDir, config.lineage));
  try {
    const model = await tf.loadLayersModel(`${served.url}/current/model.json`);
    const predictions = (model.predict(tf.tensor2d([[0, 0, 0, 0], [5, -3, 2, 100]])) as tf.Tensor).dataSync();
    assert.ok(Math.abs(predictions[0]! - v1.constant!) < 1e-5 && Math.abs(predictions[1]! - v1.constant!) < 1e-5, `${predictions} vs ${v1.constant}`);
    model.dispose();
  } finally {
    served.close();
  }
  const report = await statusReport(db, config);
  assert.deepEqual(report.champion!.constant, { name: v1.constant_name, value: v1.constant });
  assert.match(formatStatus(report), /WARNING: no model beats the naive baseline: freshet serves the (median|mean) .* itself \(eval.fallback naive\)/);
  assert.match(renderStatusPage(report), /<p id="forward-check" class="warning"[^>]*>No model beats the naive baseline: freshet serves the (median|mean) /);
  // /metrics counts the fallback as a decision of its own, and says the model loses.
  const metrics = createMetrics();
  recordDecision(metrics, 'default', { promotion: rejected!, created: true });
  recordDecision(metrics, 'default', { promotion: fallback!, created: true });
  const text = await metrics.registry.metrics();
  assert.match(text, /freshet_promotions_total\{lineage="default",decision="fallback"\} 1/);
  assert.match(text, /freshet_champion_beats_naive{lineage="default"} 0/);

  // Now the data carries signal: a model beats the constant on the newest partition and replaces it.
  for (let d = 4; d <= 6; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(1500, d));
  const learned = trainConfig(dir, url, { ...env, FRESHET_RETRAIN__VIRTUAL_EPOCHS: '6', FRESHET_RETRAIN__REPLAY_PARTITIONS: '0' });
  const second = (await runRetrainJob(db, learned))!;
  const decision = (await listPromotions(db, second.lineage_id)).find((p) => p.run_id === second.id && p.decision !== 'fallback')!;
  assert.equal(decision.champion_version_id, v1.id, 'it faced the constant');
  // The constant was scored as served: its MAE on the gate rows is the constant's.
  const gateRows = await lineageGateSet(db, learned, second.lineage_id, (await registeredPartitions(db, learned)).filter((p) => p.path === 'dt=2026-11-06'));
  let mae = 0;
  for (let i = 0; i < gateRows.rows; i++) mae += Math.abs(gateRows.y[i]! - v1.constant!);
  assert.ok(Math.abs(mae / gateRows.rows - decision.champion_metric!) < 1e-4 * decision.champion_metric!, `${mae / gateRows.rows} vs ${decision.champion_metric}`);
  assert.equal(decision.decision, 'promoted', decision.reason);
  const v2 = (await getAliasedVersion(db, second.lineage_id, CHAMPION))!;
  assert.equal(v2.constant, null, 'a model serves again');
  assert.equal(currentServingVersion(config), v2.version);
});
