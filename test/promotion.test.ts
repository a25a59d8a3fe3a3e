// Checkpoint selection and promotion with real training (tfjs WASM), real files and a real
// PostgreSQL: the retrain job end to end, the gate, model versions, serving export, rollback.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { configSchema } from '../src/core/config.ts';
import { knownMigrations } from '../src/registry/migrate.ts';
import { CHAMPION, freshPartitions, getAliasedVersion, getCheckpoint, getRun, listModelVersions, listPromotions, listRunCheckpoints } from '../src/registry/index.ts';
import { gateDecision, rollbackChampion } from '../src/promotion/index.ts';
import { prePlateauStepsToKeep, selectBase, type EpochsRecord } from '../src/selection/index.ts';
import { reconcileServing, currentServingVersion } from '../src/serving/index.ts';
import { checkpointScorer, lineageEvalSet, lineageGateSet, registeredPartitions, tf, trainRun } from '../src/trainer/index.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';
import { runFreshet, cleanEnv } from './support/cli.ts';
import { evaluateRetrainPolicy } from '../src/scheduler/index.ts';
import { statusReport } from '../src/observability/index.ts';
import { trainEnv } from './support/train-config.ts';
import { serveFolder } from './support/serve-folder.ts';

const log = createLogger({ level: 'warn', format: 'json' });

/** Serves a folder over HTTP, as a model server would, so plain tfjs loads it by URL. */
describe('retention keeps what base selection needs', () => {
  test('a retrain keeps the checkpoint before the plateau of its whole chain, when that plateau starts inside it', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-chain-');
    const config = trainConfig(dir, url, {
      FRESHET_TRAINING__NUM_CHECKPOINTS: '3',
      FRESHET_TRAINING__RETENTION__KEEP_LAST: '1',
      FRESHET_TRAINING__RETENTION__KEEP_BEST: '1',
      FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
      FRESHET_RETRAIN__BASE: 'pre-plateau',
      FRESHET_PLATEAU__METHOD: 'epochs', // the per-virtual-epoch rule (the knee rule: test/early-checkpoints.test.ts)
    });
    for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(1500, d));
    const common = { db, config, log, signal: new AbortController().signal, protectSteps: (runId: string) => prePlateauStepsToKeep(db, config, runId) };
    // The first run stops while the loss still falls; the second continues it to a plateau.
    const first = await trainRun(common);
    const base = (await listRunCheckpoints(db, first.runId)).at(-1)!;
    const second = await trainRun({ ...common, fromCheckpointId: base.id, virtualEpochs: 12 });
    const evalSet = await lineageEvalSet(db, config, base.lineage_id, await registeredPartitions(db, config));
    const selection = await selectBase(db, config, second.runId, checkpointScorer(db, config, evalSet), log);
    const plateau = selection.plateau as EpochsRecord;
    assert.ok(plateau.start !== null && plateau.chosenEpoch > 3, `the chain's plateau is inside the second run: ${plateau.reason}`);
    assert.equal(selection.chosen!.virtualEpoch, plateau.chosenEpoch, `its checkpoint was kept: ${selection.reason}`);
    assert.equal(selection.chosen!.runId, second.runId);
  });
});

describe('retrain, gate and promotion', () => {
  test('the whole cycle: first model promoted and exported, a retrain from the chosen checkpoint, rejection, promotion, rollback', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-promote-');
    const base = {
      FRESHET_SERVING_DIR: `${dir}/serving`,
      FRESHET_TRAINING__NUM_CHECKPOINTS: '8',
      FRESHET_TRAINING__STOP_POINT: '4',
      FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
      FRESHET_RETRAIN__VIRTUAL_EPOCHS: '3',
      FRESHET_RETRAIN__REPLAY_PARTITIONS: '1',
      FRESHET_RETRAIN__BASE: 'pre-plateau',
      FRESHET_PLATEAU__METHOD: 'epochs', // the per-virtual-epoch rule (the knee rule: test/early-checkpoints.test.ts)
    };
    const config = trainConfig(dir, url, base);
    for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(1200, d));

    // 1. The first model: no champion, so the bounds decide; exported for serving.
    const first = (await runRetrainJob(db, config))!;
    assert.equal(first.kind, 'initial');
    const v1 = (await getAliasedVersion(db, first.lineage_id, CHAMPION))!;
    assert.equal(v1.version, 1);
    assert.equal(v1.run_id, first.id);
    assert.equal(currentServingVersion(config), 1);
    const servedFiles = fs.readdirSync(path.join(config.servingDir, config.lineage, '1')).sort();
    assert.deepEqual(servedFiles, ['manifest.json', 'metadata.json', 'model.json', 'normalization.json', 'weights.bin']);
    // Plain tfjs loads the export by URL and reproduces the registry's metric on the same
    // rows (the gate rows, every row of the newest partition: eval.holdout newest), given
    // the raw feature values: the standardisation is folded into the exported model.
    const served = await serveFolder(path.join(config.servingDir, config.lineage));
    try {
      const model = await tf.loadLayersModel(`${served.url}/current/model.json`);
      const newest = (await registeredPartitions(db, config)).filter((p) => p.path === 'dt=2026-11-03');
      const evalSet = await lineageGateSet(db, config, first.lineage_id, newest);
      const stats = JSON.parse(fs.readFileSync(path.join(config.servingDir, config.lineage, 'current', 'normalization.json'), 'utf8')) as { mean: number[]; std: number[] };
      assert.equal(stats.mean.length, 4);
      const raw = evalSet.x.map((v, i) => v * stats.std[i % evalSet.dim]! + stats.mean[i % evalSet.dim]!);
      const predictions = (model.predict(tf.tensor2d(raw, [evalSet.rows, evalSet.dim])) as tf.Tensor).dataSync();
      let sum = 0;
      for (let i = 0; i < evalSet.rows; i++) sum += (predictions[i]! - evalSet.y[i]!) ** 2;
      assert.ok(Math.abs(sum / evalSet.rows - v1.eval_metric) <= 1e-5 * v1.eval_metric, `served mse ${sum / evalSet.rows} vs registry ${v1.eval_metric}`);
      model.dispose();
    } finally {
      served.close();
    }

    // 2. New data, same distribution, with an impossible improvement bar: trained, then rejected.
    await addPartition(db, config.dataDir, '2026-11-04', syntheticRows(1200, 4));
    const strict = trainConfig(dir, url, { ...base, FRESHET_EVAL__MIN_IMPROVEMENT: '10' });
    const rejectedRun = (await runRetrainJob(db, strict))!;
    assert.equal(rejectedRun.kind, 'retrain');
    // It started from the chosen checkpoint, and its state is that checkpoint's.
    const selection = rejectedRun.base_selection as { policy: string; chosen: { checkpointId: string; virtualEpoch: number; globalStep: number }; candidates: Array<{ name: string; score: number }> };
    assert.equal(selection.policy, 'pre-plateau');
    assert.equal(rejectedRun.base_checkpoint_id, selection.chosen.checkpointId);
    const plateau = (rejectedRun.base_selection as { plateau: { chosenEpoch: number; start: number | null } }).plateau;
    assert.equal(selection.chosen.virtualEpoch, plateau.chosenEpoch, 'retention kept the pre-plateau checkpoint');
    assert.deepEqual(selection.candidates.map((c) => c.name), ['pre-plateau', 'last', 'best-val']);
    assert.ok(selection.candidates.every((c) => Number.isFinite(c.score)), 'every candidate scored on the fresh rows');
    const baseCheckpoint = await getCheckpoint(db, selection.chosen.checkpointId);
    const epochs = await db.selectFrom('epoch_losses').selectAll().where('run_id', '=', rejectedRun.id).orderBy('virtual_epoch').execute();
    const lineage = await db.selectFrom('lineages').selectAll().where('id', '=', rejectedRun.lineage_id).executeTakeFirstOrThrow();
    assert.equal(epochs[0]!.virtual_epoch, baseCheckpoint.virtual_epoch + 1, 'virtual epochs continue from the base');
    assert.equal(Number(epochs[0]!.global_step), Number(baseCheckpoint.global_step) + lineage.steps_per_epoch, 'and so do the optimizer steps');
    assert.equal(epochs.length, 3);
    const roles = await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'run_partitions.partition_id').select(['role', 'path']).where('run_id', '=', rejectedRun.id).orderBy('path').execute();
    // The first run kept its newest partition (11-03) out for its gate; this retrain learns
    // it, and keeps the new newest (11-04) out for its own gate (eval.holdout newest).
    const firstRoles = await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'run_partitions.partition_id').select(['role', 'path']).where('run_id', '=', first.id).execute();
    assert.deepEqual(firstRoles.map((r) => `${r.role}:${r.path}`).sort(), ['eval:dt=2026-11-01', 'eval:dt=2026-11-02', 'gate:dt=2026-11-03', 'train:dt=2026-11-01', 'train:dt=2026-11-02']);
    assert.deepEqual(roles.map((r) => `${r.role}:${r.path}`).sort(), ['eval:dt=2026-11-03', 'gate:dt=2026-11-04', 'replay:dt=2026-11-02', 'train:dt=2026-11-03']);
    let decisions = await listPromotions(db, rejectedRun.lineage_id);
    assert.equal(decisions[0]!.decision, 'rejected');
    assert.equal(decisions[0]!.run_id, rejectedRun.id);
    assert.ok(decisions[0]!.candidate_metric !== null && decisions[0]!.champion_metric !== null, 'both metrics recorded');
    const day4 = await db.selectFrom('partitions').select('id').where('path', '=', 'dt=2026-11-04').executeTakeFirstOrThrow();
    assert.deepEqual(decisions[0]!.eval_partition_ids.map(String), [day4.id], 'gated on the newest fresh partition, which it did not train on');
    assert.equal(decisions[0]!.holdout, 'newest');
    assert.equal(Number(decisions[0]!.eval_rows), 1200, 'every row of the holdout partition is a gate row');
    assert.ok(decisions[0]!.naive_metric !== null && ['median', 'mean'].includes(decisions[0]!.naive_name!), 'the naive baselines are on the decision');
    assert.match(decisions[0]!.reason, /needed/);
    assert.equal(decisions[0]!.base_policy, 'pre-plateau');
    assert.equal((await getAliasedVersion(db, rejectedRun.lineage_id, CHAMPION))!.id, v1.id, 'the champion stays');
    assert.equal(currentServingVersion(config), 1);

    // One definition of fresh, after a rejection: day 3 (trained on by the rejected run) and
    // day 4 (its gate partition) are still fresh (the champion has not learned from them, so
    // the next retrain trains on them) but tried (they do not trigger one again); the
    // policy, the planner's source and the status report all say so.
    const fresh = await freshPartitions(db, { id: rejectedRun.lineage_id, source: config.dataDir });
    assert.deepEqual(fresh.map((p) => [p.path, p.tried]), [['dt=2026-11-03', true], ['dt=2026-11-04', true]]);
    const verdict = await evaluateRetrainPolicy(db, config, { minNewPartitions: 1, minNewExamples: 0, maxStalenessSeconds: 0 });
    assert.deepEqual([verdict.due, verdict.newPartitions], [false, 0], verdict.reason);
    const status = await statusReport(db, config);
    assert.deepEqual([status.freshness.partitionsWaiting, status.freshness.partitionsUntried], [2, 0]);

    // 3. The data shifts: the champion is wrong on it, a retrain on it is better and promoted.
    await addPartition(db, config.dataDir, '2026-11-05', syntheticRows(1200, 5, 1.5));
    await addPartition(db, config.dataDir, '2026-11-06', syntheticRows(1200, 6, 1.5));
    const better = (await runRetrainJob(db, config))!;
    decisions = await listPromotions(db, better.lineage_id);
    assert.equal(decisions[0]!.decision, 'promoted', decisions[0]!.reason);
    assert.ok(decisions[0]!.candidate_metric! < decisions[0]!.champion_metric!);
    const v2 = (await getAliasedVersion(db, better.lineage_id, CHAMPION))!;
    assert.equal(v2.version, 2);
    assert.equal(currentServingVersion(config), 2);
    assert.ok(fs.existsSync(path.join(config.servingDir, config.lineage, '2', 'model.json')));
    const trained = await db.selectFrom('model_version_partitions').innerJoin('partitions', 'partitions.id', 'partition_id').select('path').where('model_version_id', '=', v2.id).orderBy('path').execute();
    // Its own (everything the champion had not seen, 03 and 04 included: the rejected run
    // does not count; 06 is its gate partition, not trained on), its replay, and its ancestors'.
    assert.deepEqual(trained.map((t) => t.path), ['dt=2026-11-01', 'dt=2026-11-02', 'dt=2026-11-03', 'dt=2026-11-04', 'dt=2026-11-05']);
    const betterRoles = await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'partition_id').select(['role', 'path']).where('run_id', '=', better.id).execute();
    assert.deepEqual(betterRoles.filter((r) => r.role === 'train').map((r) => r.path).sort(), ['dt=2026-11-03', 'dt=2026-11-04', 'dt=2026-11-05']);
    assert.deepEqual(betterRoles.filter((r) => r.role === 'gate').map((r) => r.path), ['dt=2026-11-06']);

    // 4. Only v2's gate partition (11-06) is fresh: a forward holdout would leave nothing to
    // learn, so this run trains on it and gates on its held-out rows, and says so.
    const single = (await runRetrainJob(db, strict))!;
    const singleDecision = (await listPromotions(db, single.lineage_id))[0]!;
    assert.equal(singleDecision.run_id, single.id);
    assert.equal(singleDecision.holdout, 'random');
    assert.match(singleDecision.reason, /only 1 fresh partition, not more than eval\.holdoutPartitions 1/);
    assert.equal(singleDecision.decision, 'rejected');
    assert.equal((await listModelVersions(db, better.lineage_id)).length, 2);
    assert.equal((await getRun(db, better.id)).status, 'succeeded');

    // 5. Rollback: the previous champion and its export are back.
    const rolled = await rollbackChampion(db, config.lineage, 'tester', 'v2 misbehaves in production');
    assert.equal(rolled.version.id, v1.id);
    await reconcileServing(db, config, log);
    assert.equal(currentServingVersion(config), 1);
    decisions = await listPromotions(db, better.lineage_id);
    assert.deepEqual([decisions[0]!.decision, decisions[0]!.actor, decisions[0]!.reason], ['rollback', 'tester', 'v2 misbehaves in production']);

    // The champion only ever changed through recorded decisions: replay them.
    const changes = (await listPromotions(db, better.lineage_id)).reverse().filter((d) => d.decision !== 'rejected');
    assert.deepEqual(changes.map((d) => d.decision), ['promoted', 'promoted', 'rollback']);
    assert.equal(changes.at(-1)!.candidate_version_id, (await getAliasedVersion(db, better.lineage_id, CHAMPION))!.id);
    const events = await db.selectFrom('events').select('kind').where('kind', 'like', 'model.%').orderBy('id').execute();
    assert.deepEqual(events.map((e) => e.kind), ['model.promoted', 'model.rejected', 'model.promoted', 'model.rejected', 'model.rollback']);

  });

  test('the CLI: plateau, models, promote, rollback, status, runs, checkpoints', async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-promote-cli-');
    const envVars = { ...trainEnv(dir, url), FRESHET_SERVING_DIR: `${dir}/serving`, FRESHET_TRAINING__NUM_CHECKPOINTS: '8', FRESHET_TRAINING__STOP_POINT: '4', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2', FRESHET_EVAL__MIN_IMPROVEMENT: '0' };
    const config = trainConfig(dir, url, envVars);
    for (let d = 1; d <= 2; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(800, d));
    await runRetrainJob(db, config);
    await addPartition(db, config.dataDir, '2026-11-03', syntheticRows(800, 3, 2));
    await runRetrainJob(db, config);
    const env = cleanEnv(envVars);

    const plateau = await runFreshet(['plateau'], { env });
    assert.equal(plateau.code, 0, plateau.stderr);
    assert.match(plateau.stdout, /^lineage default, run \d+, rule plateau.method knee:\ntraining loss per step \d+–\d+, smoothed/);
    assert.match(plateau.stdout, /\ntraining loss per virtual epoch 1–\d+/);
    assert.match(plateau.stdout, /[▁▂▃▄▅▆▇█]{5,}/);
    assert.match(plateau.stdout, /\^/);
    assert.match(plateau.stdout, /K knee/);
    const svgFile = path.join(dir, 'curve.svg');
    assert.equal((await runFreshet(['plateau', '--svg', svgFile], { env })).code, 0);
    assert.match(fs.readFileSync(svgFile, 'utf8'), /^<svg id="step-loss-curve"[^]*class="smoothed-loss"[^]*pre-plateau candidate \(step \d+\)/);
    const json = JSON.parse((await runFreshet(['plateau', '1', '--json'], { env })).stdout) as { run: string; points: unknown[]; chosenEpoch: number };
    assert.equal(json.run, '1');
    assert.equal(json.points.length, 8);
    assert.ok(json.chosenEpoch >= 1 && json.chosenEpoch <= 8);

    const models = await runFreshet(['models'], { env });
    assert.equal(models.code, 0, models.stderr);
    assert.match(models.stdout, /champion v\d/);
    const report = JSON.parse((await runFreshet(['models', '--json'], { env })).stdout) as { champion: number; versions: Array<{ version: number }> };
    assert.deepEqual([report.champion, report.versions.length], [2, 2], 'the shifted data made a better candidate');
    // --limit bounds versions and decisions, and the text says what was left out (issue #24, item 14).
    const limited = JSON.parse((await runFreshet(['models', '--json', '--limit', '1'], { env })).stdout) as { versions: Array<{ version: number }>; decisions: Array<{ candidate_version: number | null }>; totalVersions: number; totalDecisions: number };
    assert.deepEqual(limited.versions.map((v) => v.version), [2]);
    assert.equal(limited.decisions.length, 1);
    assert.ok(limited.totalDecisions >= 2 && limited.totalVersions === 2);
    assert.match((await runFreshet(['models', '--limit', '1'], { env })).stdout, /versions, the newest 1 of 2 \(--limit\)/);
    // A one-shot verb prints its answer: no info log lines on stderr unless --verbose (item 13).
    assert.equal(models.stderr, '', 'models logs nothing at info level by default');
    assert.match((await runFreshet(['models', '--verbose'], { env })).stderr, /"level":30/);
    assert.equal((await runFreshet(['rollback', '--reason', 'test'], { env })).code, 0);
    assert.equal(currentServingVersion(config), 1);
    const again = await runFreshet(['promote', '2', '--reason', 'fixed'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /version 2 is the champion of default \(was v1\)/);
    assert.equal(currentServingVersion(config), 2);
    const twice = await runFreshet(['promote', '2'], { env });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /already the champion/);
    const status = await runFreshet(['status'], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^lineage default\nchampion: v2, loss \d/);
    // 11-04 was v2's gate partition: fresh (v2 has not learned it), tried, waiting for the next retrain.
    assert.match(status.stdout, /freshness: champion's newest data .* old\); newest partition .*; 1 fresh partitions .*0 not yet tried/);
    assert.match(status.stdout, /last decisions/);
    const statusJson = JSON.parse((await runFreshet(['status', '--json'], { env })).stdout) as { champion: { version: number }; schemaVersion: string; jobs: Record<string, number>; lossCurve: { points: unknown[] } };
    assert.equal(statusJson.champion.version, 2);
    assert.equal(statusJson.schemaVersion, (await knownMigrations()).at(-1), 'the newest migration this code knows');
    assert.ok(statusJson.lossCurve.points.length > 0);
    const runs = await runFreshet(['runs', '--json'], { env });
    assert.deepEqual((JSON.parse(runs.stdout) as Array<{ kind: string }>).map((r) => r.kind), ['retrain', 'initial']);
    const runsText = await runFreshet(['runs'], { env });
    assert.match(runsText.stdout, /^run\s+kind\s+status/);
    const checkpoints = await runFreshet(['checkpoints', '1'], { env });
    assert.equal(checkpoints.code, 0, checkpoints.stderr);
    assert.match(checkpoints.stdout, /^checkpoint\s+epoch\s+step/);
    assert.equal((await runFreshet(['checkpoints', 'abc'], { env })).code, 2);
    assert.match((await runFreshet(['checkpoints', '999'], { env })).stderr, /run 999 does not exist/);
    const missing = await runFreshet(['promote', '9'], { env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no version 9/);
    const badRun = await runFreshet(['plateau', '999'], { env });
    assert.equal(badRun.code, 2);
    assert.match(badRun.stderr, /run 999 does not exist/);
  });
});

test('the gate: relative and absolute improvement, bounds, no champion, no rows', () => {
  const rules = { ...configSchema.parse({}).eval, metric: 'loss' as const, minImprovement: 0.01, minAbsoluteImprovement: 0 };
  const input = { metric: 'loss' as const, evalRows: 100, naive: null, interval: null };
  assert.equal(gateDecision({ ...input, candidate: 0.98, champion: 1 }, rules).promote, true);
  assert.match(gateDecision({ ...input, candidate: 0.995, champion: 1 }, rules).reason, /better by only 0.005/);
  assert.equal(gateDecision({ ...input, candidate: 1.2, champion: 1 }, rules).promote, false);
  assert.equal(gateDecision({ ...input, candidate: 1, champion: 1 }, { ...rules, minImprovement: 0 }).promote, false, 'equal is not better');
  assert.equal(gateDecision({ ...input, candidate: 0.98, champion: 1 }, { ...rules, minAbsoluteImprovement: 0.05 }).promote, false);
  assert.equal(gateDecision({ ...input, candidate: 5, champion: null }, rules).promote, true);
  assert.match(gateDecision({ ...input, candidate: 5, champion: null }, { ...rules, upperBound: 4 }).reason, /above eval.upperBound 4/);
  assert.equal(gateDecision({ ...input, candidate: Number.NaN, champion: 1 }, rules).promote, false);
  assert.equal(gateDecision({ ...input, evalRows: 0, candidate: 0.5, champion: 1 }, rules).promote, false);
  const auc = { metric: 'auc' as const, evalRows: 100, naive: null, interval: null };
  assert.equal(gateDecision({ ...auc, candidate: 0.9, champion: 0.8 }, { ...rules, metric: 'auc' }).promote, true);
  assert.equal(gateDecision({ ...auc, candidate: 0.7, champion: 0.8 }, { ...rules, metric: 'auc' }).promote, false);
  assert.match(gateDecision({ ...auc, candidate: 0.6, champion: null }, { ...rules, metric: 'auc', lowerBound: 0.7 }).reason, /below eval.lowerBound/);
});

test('base policies auto and scratch: auto takes the candidate with the lowest fresh-row loss, scratch starts from nothing', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-policy-');
  const base = { FRESHET_SERVING_DIR: `${dir}/serving`, FRESHET_TRAINING__NUM_CHECKPOINTS: '8', FRESHET_TRAINING__STOP_POINT: '4', FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2' };
  const config = trainConfig(dir, url, base);
  for (let d = 1; d <= 2; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(800, d));
  await runRetrainJob(db, config);
  await addPartition(db, config.dataDir, '2026-11-03', syntheticRows(800, 3, 1));
  const auto = (await runRetrainJob(db, trainConfig(dir, url, { ...base, FRESHET_RETRAIN__BASE: 'auto', FRESHET_EVAL__MIN_IMPROVEMENT: '100' })))!;
  const selection = auto.base_selection as { policy: string; chosen: { score: number; checkpointId: string }; candidates: Array<{ score: number }>; reason: string };
  assert.equal(selection.policy, 'auto');
  assert.equal(selection.chosen.score, Math.min(...selection.candidates.map((c) => c.score)));
  assert.equal(auto.base_checkpoint_id, selection.chosen.checkpointId);
  assert.match(selection.reason, /^retrained from [a-z-]+ \(step \d+, virtual epoch \d+\): the lowest loss on \d+ fresh eval rows among pre-plateau/);
  const promotion = await db.selectFrom('promotions').selectAll().where('run_id', '=', auto.id).executeTakeFirstOrThrow();
  assert.equal(promotion.base_policy, 'auto');
  assert.equal((promotion.base_candidates as unknown[]).length, 3, 'the candidates and their scores are on the decision too');

  const scratch = (await runRetrainJob(db, trainConfig(dir, url, { ...base, FRESHET_RETRAIN__BASE: 'scratch' })))!;
  assert.equal(scratch.base_checkpoint_id, null);
  const epochs = await db.selectFrom('epoch_losses').select('virtual_epoch').where('run_id', '=', scratch.id).orderBy('virtual_epoch').execute();
  assert.deepEqual(epochs.map((e) => e.virtual_epoch), [1, 2], 'from scratch: epochs start at 1');
});
