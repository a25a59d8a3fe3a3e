// Checkpoints where the loss falls, and the knee rule on a real run: a lineage's first run
// also checkpoints at log-spaced early steps (a schedule fixed on the lineage); retention
// keeps the one the knee rule chooses; a retrain starts from it; resume stays exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { getLineage, getRun, listLossPoints, listRunCheckpoints } from '../src/registry/index.ts';
import { earlyCheckpointSteps } from '../src/trainer/run/virtual-epochs.ts';
import { checkpointScorer, lineageEvalSet, registeredPartitions, trainRun } from '../src/trainer/index.ts';
import { plateauReport, prePlateauStepsToKeep, selectBase, type KneeRecord } from '../src/selection/index.ts';
import { formatPlateau } from '../src/cli/model-commands.ts';
import { stepLossChartSvg } from '../src/observability/index.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

const log = createLogger({ level: 'warn', format: 'json' });
const never = new AbortController().signal;
const env = {
  FRESHET_TRAINING__EARLY_CHECKPOINTS__FIRST_STEP: '2',
  FRESHET_TRAINING__EARLY_CHECKPOINTS__UNTIL_EPOCH: '2',
  FRESHET_TRAINING__NUM_CHECKPOINTS: '6',
  FRESHET_TRAINING__STOP_POINT: '3',
  FRESHET_TRAINING__LOG_EVERY: '4',
  FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
  FRESHET_TRAINING__RETENTION__KEEP_LAST: '1',
  FRESHET_TRAINING__RETENTION__KEEP_BEST: '1',
  FRESHET_RETRAIN__BASE: 'pre-plateau',
};

test('the early checkpoint schedule: firstStep·2^k inside the first epochs, epoch ends left out', () => {
  assert.deepEqual(earlyCheckpointSteps(100, { firstStep: 16, untilEpoch: 1 }), [16, 32, 64]);
  assert.deepEqual(earlyCheckpointSteps(64, { firstStep: 16, untilEpoch: 2 }), [16, 32], '64 is an epoch end');
  assert.deepEqual(earlyCheckpointSteps(390, { firstStep: 16, untilEpoch: 2 }), [16, 32, 64, 128, 256, 512]);
  assert.deepEqual(earlyCheckpointSteps(100, { firstStep: 0, untilEpoch: 2 }), [], '0 turns it off');
});

test('a first run checkpoints where the loss falls; the knee rule chooses a checkpoint on the descent, retention keeps it, a retrain starts from it', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-knee-');
  const config = trainConfig(dir, url, env);
  for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(1500, d));
  const common = { db, config, log, signal: never, protectSteps: (runId: string) => prePlateauStepsToKeep(db, config, runId) };
  const first = await trainRun(common);
  const lineage = await getLineage(db, (await getRun(db, first.runId)).lineage_id);
  assert.deepEqual(lineage.early_checkpoint_steps, earlyCheckpointSteps(lineage.steps_per_epoch, { firstStep: 2, untilEpoch: 2 }), 'the schedule is recorded on the lineage');
  assert.ok(lineage.early_checkpoint_steps.length >= 3, `${lineage.early_checkpoint_steps} for ${lineage.steps_per_epoch} steps per epoch`);
  // The loss was read at the early steps and at powers of two below logEvery.
  const points = (await listLossPoints(db, first.runId)).map((p) => p.step);
  for (const step of [1, 2, ...lineage.early_checkpoint_steps]) assert.ok(points.includes(step), `a loss point at step ${step}`);

  const report = await plateauReport(db, config, first.runId);
  assert.equal(report.method, 'knee');
  assert.ok(report.kneeStep !== null, report.reason);
  assert.ok(report.chosenStep! <= report.kneeStep!, `chosen at or before the knee: ${report.reason}`);
  assert.ok(report.chosenLevel! > report.endLevel! * 1.2, `on the descent, clearly above the plateau level: ${report.reason}`);
  // Retention kept it although it is neither among the last nor the best.
  const kept = (await listRunCheckpoints(db, first.runId)).map((c) => Number(c.global_step));
  assert.ok(kept.includes(report.chosenStep!), `kept ${kept}, chosen ${report.chosenStep}`);
  for (const step of lineage.early_checkpoint_steps) assert.ok(kept.includes(step), `the early checkpoints stay (the knee moves among them as the curve grows): ${kept}`);
  assert.ok(kept.length <= lineage.early_checkpoint_steps.length + 3, `retention still applies to the rest (keep last 1, best 1, the choice): ${kept}`);
  // Drawn: the terminal line and the status page chart mark the knee and the choice.
  const text = formatPlateau(report);
  assert.match(text, /K knee \(step \d+\), \^ pre-plateau checkpoint \(step \d+, smoothed loss/);
  assert.match(text, /\n {2}[▁▂▃▄▅▆▇█]+\n {2}.*K/);
  const svg = stepLossChartSvg(report)!;
  assert.match(svg, /class="knee-marker"/);
  assert.match(svg, /pre-plateau candidate \(step \d+\)/);

  const evalSet = await lineageEvalSet(db, config, lineage.id, await registeredPartitions(db, config));
  const selection = await selectBase(db, config, first.runId, checkpointScorer(db, config, evalSet), log);
  assert.equal(selection.chosen!.globalStep, report.chosenStep);
  assert.equal((selection.plateau as KneeRecord).method, 'knee');
  assert.ok((selection.plateau as KneeRecord).curve.length > 10, 'the curve summary is stored with the choice');
  const second = await trainRun({ ...common, fromCheckpointId: selection.chosen!.checkpointId, virtualEpochs: 2 });
  assert.equal((await getRun(db, second.runId)).base_checkpoint_id, selection.chosen!.checkpointId);
});

test('with early checkpoints, a run stopped between them resumes bit-identical to never stopping', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-knee-resume-');
  for (let d = 1; d <= 2; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1200, d));
  const reference = await trainRun({ db, config: trainConfig(dir, url, { ...env, FRESHET_LINEAGE: 'reference' }), log, signal: never });
  const resumed = trainConfig(dir, url, { ...env, FRESHET_LINEAGE: 'resumed' });
  const part1 = await trainRun({ db, config: resumed, log, signal: never, stopAfterSteps: 5 });
  assert.equal(part1.status, 'interrupted');
  const part2 = await trainRun({ db, config: resumed, log, signal: never, resumeRunId: part1.runId });
  assert.equal(part2.status, 'succeeded');
  assert.equal(part2.globalStep, reference.globalStep);
  assert.deepEqual(Buffer.from(part2.weightBytes), Buffer.from(reference.weightBytes));
});
