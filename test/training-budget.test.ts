// A training budget that fits the data (issue #29, item 1): the batch size clamped to the
// data and a floor of steps when a lineage starts, early stopping deciding inside that
// budget, and a run that ends while its validation loss still falls saying so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { Rng } from '../src/core/rng.ts';
import { runBacktest } from '../src/backtest/index.ts';
import { getLineage, getRun, listRuns } from '../src/registry/index.ts';
import { trainRun } from '../src/trainer/index.ts';
import { stillFalling } from '../src/trainer/run/still-falling.ts';
import { extendsRun } from '../src/trainer/run/run-extension.ts';
import { trainingBudget } from '../src/trainer/run/virtual-epochs.ts';
import { renderStatusPage, statusReport } from '../src/observability/index.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';
import { formatStatus } from '../src/cli/status-text.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';

const defaults = { batchSize: 256, numCheckpoints: 15, stopPoint: 3, minSteps: 500 };

test('trainingBudget: little data gets a smaller batch and the floor of steps; much data keeps the batch and its passes', () => {
  // 606 rows, 10 % held out: 545 training rows → at most 545/16 = 34 per batch → 32.
  const small = trainingBudget(545, defaults);
  assert.equal(small.batchSize, 32);
  assert.equal(small.stepsPerEpoch, Math.ceil(500 / 15), 'the floor: 500 steps over 15 virtual epochs');
  assert.match(small.reason, /batch 32 \(training\.batchSize 256 clamped to 1\/16 of the 545 training rows\); 34 steps per virtual epoch: the floor training\.minSteps 500/);
  // 12,000 rows: the batch stays, 3 passes would be 126 steps; the floor gives 510.
  const cities = trainingBudget(10_800, defaults);
  assert.equal(cities.batchSize, 256);
  assert.equal(cities.stepsPerEpoch * 15, 510);
  // 3 million rows: 3 passes (35,156 steps) is above the floor; nothing clamped.
  const large = trainingBudget(3_000_000, defaults);
  assert.deepEqual([large.batchSize, large.stepsPerEpoch], [256, Math.floor((3_000_000 * 3) / (256 * 15))]);
  assert.match(large.reason, /^batch 256; 2343 steps per virtual epoch: 3 passes over 15 virtual epochs$/);
  // A smaller configured batch is kept; 100 rows never go below 8 a batch.
  assert.equal(trainingBudget(1_000_000, { ...defaults, batchSize: 32 }).batchSize, 32);
  assert.equal(trainingBudget(100, defaults).batchSize, 8);
  assert.equal(trainingBudget(100, { ...defaults, minSteps: 0 }).stepsPerEpoch, Math.floor((100 * 3) / (8 * 15)));
});

test('stillFalling: only a run that reached its target with its best loss at its last check, at least 1% below the one before', () => {
  const checks = [{ step: 10, valLoss: 2 }, { step: 20, valLoss: 1.5 }, { step: 30, valLoss: 1.2 }];
  assert.deepEqual(stillFalling(checks, { earlyStopped: false, bestStep: 30, lastStep: 30 }), { falling: true, gain: (1.5 - 1.2) / 1.5 });
  assert.equal(stillFalling(checks, { earlyStopped: true, bestStep: 30, lastStep: 30 }).falling, false, 'stopped early: it had plateaued');
  assert.equal(stillFalling(checks, { earlyStopped: false, bestStep: 20, lastStep: 30 }).falling, false, 'the best was earlier');
  assert.equal(stillFalling([{ step: 20, valLoss: 1.2 }, { step: 30, valLoss: 1.195 }], { earlyStopped: false, bestStep: 30, lastStep: 30 }).falling, false, 'a crawl of 0.4%: the plateau');
  assert.deepEqual(stillFalling([{ step: 30, valLoss: 1 }], { earlyStopped: false, bestStep: 30, lastStep: 30 }), { falling: false, gain: null }, 'one check says nothing');
});

test('extendsRun: only a first run at its target, its last check its best and at least 1% below the best before, within its extra epochs', () => {
  const at = (gain: number, bestStep = 300) => ({ globalStep: 300, virtualEpoch: 15, earlyStopping: { bestStep, stopped: false, gain } });
  const run = { firstRun: true, targetEpochs: 15, nominalEpochs: 15, extraEpochs: 45 };
  assert.equal(extendsRun(at(0.05), run), true);
  assert.equal(extendsRun(at(0.004), run), false, 'crawling along the plateau by 0.4%: done');
  assert.equal(extendsRun(at(0.05, 280), run), false, 'the last check was not the best');
  assert.equal(extendsRun(at(0.05), { ...run, firstRun: false }), false, 'a retrain (from scratch too) keeps retrain.virtualEpochs');
  assert.equal(extendsRun(at(0.05), { ...run, targetEpochs: 60 }), false, 'no extra epochs left');
  assert.equal(extendsRun({ ...at(0.05), virtualEpoch: 14 }, run), false, 'not at its target yet');
  assert.equal(extendsRun({ globalStep: 300, virtualEpoch: 15, earlyStopping: { bestStep: 300, stopped: false } }, run), false, 'a checkpoint from before the gain was kept');
});

test('a run cut short while its loss still falls says so: on the run row, in the status and in the log', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-budget-falling-');
  for (let d = 1; d <= 2; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', format: 'json' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  // Three virtual epochs of a few steps each: far from converged on y = 3·x0 − 2·x1 + x2·x3.
  const config = trainConfig(dir, url, { FRESHET_TRAINING__NUM_CHECKPOINTS: '3', FRESHET_TRAINING__STOP_POINT: '0.3', FRESHET_TRAINING__LEARNING_RATE: '0.003' });
  const result = await trainRun({ db, config, log, signal: new AbortController().signal });
  assert.equal(result.status, 'succeeded');
  const run = await getRun(db, result.runId);
  assert.equal(run.still_falling, true, `val loss gain ${run.val_loss_gain}`);
  assert.ok(run.val_loss_gain! >= 0.01);
  assert.ok(lines.some((l) => /the run ended while its validation loss was still falling \(\d+\.\d% lower at its last check/.test(l) && /raise training\.extraEpochs, or for a new lineage training\.minSteps or training\.numCheckpoints/.test(l)), lines.join('\n'));
  const report = await statusReport(db, config);
  assert.equal(report.runs[0]!.stillFalling, true);
  assert.match(formatStatus(report), /succeeded, loss still falling/);
  assert.match(renderStatusPage(report), /<td>succeeded, loss still falling<\/td>/);
  const runs = await runFreshet(['runs'], { env: cleanEnv(trainEnv(dir, url)), cwd: dir });
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stdout, /succeeded, loss still falling \(\d+\.\d% at the last check\)/);
  // A run that stopped early (patience 1 on a long budget) is not flagged.
  const long = trainConfig(dir, url, { FRESHET_LINEAGE: 'long', FRESHET_TRAINING__NUM_CHECKPOINTS: '40', FRESHET_TRAINING__STOP_POINT: '20', FRESHET_TRAINING__EARLY_STOPPING__PATIENCE: '1' });
  const stopped = await trainRun({ db, config: long, log, signal: new AbortController().signal });
  const stoppedRun = await getRun(db, stopped.runId);
  assert.equal(stopped.earlyStopped, true);
  assert.equal(stoppedRun.still_falling, false);
  assert.equal((await listRuns(db, { lineageId: stoppedRun.lineage_id }))[0]!.still_falling, false);
});

test('a first run still descending at its nominal end goes on one virtual epoch at a time; a resume extends exactly as an uninterrupted run', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-budget-extend-');
  for (let d = 1; d <= 2; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
  const log = createLogger({ level: 'error', format: 'json' });
  const never = new AbortController().signal;
  // Two short virtual epochs: far from converged, so the run goes on (at most 6 more).
  const env = (lineage: string) => ({ FRESHET_LINEAGE: lineage, FRESHET_TRAINING__NUM_CHECKPOINTS: '2', FRESHET_TRAINING__STOP_POINT: '0.3', FRESHET_TRAINING__EXTRA_EPOCHS: '6' });
  const reference = await trainRun({ db, config: trainConfig(dir, url, env('reference')), log, signal: never });
  const run = await getRun(db, reference.runId);
  assert.ok(run.target_virtual_epochs! > 2 && run.target_virtual_epochs! <= 8, `target ${run.target_virtual_epochs}`);
  assert.equal(reference.virtualEpoch, run.target_virtual_epochs, 'it trained to its raised target');
  const steps = (await getLineage(db, run.lineage_id)).steps_per_epoch;
  // Stopped at the nominal end, and the raised target lost (a kill between the checkpoint and
  // the registry write): the resume decides again from the checkpointed state, the same way.
  const config = trainConfig(dir, url, env('resumed'));
  const part1 = await trainRun({ db, config, log, signal: never, stopAfterSteps: 2 * steps });
  assert.equal(part1.status, 'interrupted');
  await db.updateTable('runs').set({ target_virtual_epochs: 2 }).where('id', '=', part1.runId).execute();
  const part2 = await trainRun({ db, config, log, signal: never, resumeRunId: part1.runId });
  assert.equal(part2.globalStep, reference.globalStep);
  assert.deepEqual(Buffer.from(part2.weightBytes), Buffer.from(reference.weightBytes));
  assert.equal((await getRun(db, part1.runId)).target_virtual_epochs, run.target_virtual_epochs);
  // extraEpochs 0: the run ends at numCheckpoints, still falling and saying so.
  const fixed = await trainRun({ db, config: trainConfig(dir, url, { ...env('fixed'), FRESHET_TRAINING__EXTRA_EPOCHS: '0' }), log, signal: never });
  assert.equal(fixed.virtualEpoch, 2);
  assert.equal((await getRun(db, fixed.runId)).still_falling, true);
});

/** y = 10·city + x + noise (σ 1): three cities, as a user's first lineage with `columns.categorical: [city]`. */
function writeCities(root: string, partitions: number, rows: number): void {
  const rng = new Rng(7);
  const cities = ['oslo', 'lima', 'pune'];
  for (let d = 1; d <= partitions; d++) {
    const dir = path.join(root, `dt=2026-01-${String(d).padStart(2, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    const lines = Array.from({ length: rows }, () => {
      const city = Math.floor(rng.next() * 3);
      const x = rng.next() * 10;
      const noise = Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next());
      return `${cities[city]},${x.toFixed(4)},${(10 * city + x + noise).toFixed(4)}`;
    });
    fs.writeFileSync(path.join(dir, 'part-0.csv'), `city,x,y\n${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
  }
}

test('the defaults, unaided: 12,000 rows of three cities give a first model with MAE < 1.5 on rows it never saw (126 steps gave 5.8 before the floor)', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-budget-cities-');
  const history = path.join(dir, 'history');
  writeCities(history, 13, 1000);
  // Nothing tuned: only what a user must say (columns, the loss) and where things go.
  const config = loadConfig({
    cwd: dir,
    env: {
      DATABASE_URL: url,
      FRESHET_DATA_DIR: `${dir}/data`,
      FRESHET_ARTIFACTS_DIR: `${dir}/artifacts`,
      FRESHET_SERVING_DIR: `${dir}/serving`,
      FRESHET_COLUMNS__FEATURES: '["x"]',
      FRESHET_COLUMNS__CATEGORICAL: '["city"]',
      FRESHET_COLUMNS__LABEL: 'y',
      FRESHET_MODEL__LOSS: 'mae',
      FRESHET_TRAINING__BACKEND: 'wasm',
      FRESHET_RETRAIN__SCHEDULE: '',
    },
  });
  // The first model on 12 days; the 13th, which it never saw, is scored forward.
  const summary = await runBacktest({ sourceDir: history, config, db, warmup: 12, step: 1, log: createLogger({ level: 'error', format: 'json' }), signal: new AbortController().signal });
  const unseen = summary.steps[1]!;
  assert.equal(unseen.rows, 1000);
  assert.ok(unseen.forward! < 1.5, `MAE ${unseen.forward} on unseen rows (noise alone: 0.8; the constant ${unseen.forwardNaive})`);
  const lineage = await getLineage(db, (await listRuns(db, {}))[0]!.lineage_id);
  assert.equal(lineage.batch_size, 256);
  assert.ok(lineage.steps_per_epoch * lineage.num_checkpoints >= 500, 'the floor of steps');
});
