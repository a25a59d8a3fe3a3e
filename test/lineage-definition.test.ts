// A configuration changed under an existing lineage (issue #24, item 3): the daemon refuses
// to start, naming each key old → new and the ways forward, before any job runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { definitionDifferences } from '../src/trainer/run/lineage-definition.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';

test('definitionDifferences names each leaf with its configuration key, old → new', () => {
  const stored = { columns: { features: ['a', 'b'], label: 'y' }, model: { hidden: [64, 64], task: 'regression' }, batchSize: 64, seed: 1 };
  const current = { columns: { features: ['a', 'b', 'c'], label: 'y' }, model: { hidden: [64, 64], task: 'regression', loss: 'mae' }, batchSize: 32, seed: 1 };
  assert.deepEqual(definitionDifferences(stored, current), ['training.batchSize: 64 → 32', 'columns.features: ["a","b"] → ["a","b","c"]', 'model.loss: (unset) → "mae"']); // keys in order at each level: batchSize, columns, model
});

test('freshet daemon with training.batchSize changed on an existing lineage exits 2 at start, naming the key old → new and the ways forward', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-definition-');
  const config = trainConfig(dir, url);
  for (let d = 1; d <= 3; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(600, d));
  await runRetrainJob(db, config);
  const jobsBefore = (await db.selectFrom('jobs').select('id').execute()).length;

  const result = await runFreshet(['daemon'], { env: cleanEnv(trainEnv(dir, url, { FRESHET_TRAINING__BATCH_SIZE: '32'})) });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /lineage "default" was started with another definition/);
  assert.match(result.stderr, /training\.batchSize: 64 → 32/);
  assert.match(result.stderr, /set `lineage` to a new name/);
  assert.doesNotMatch(result.stderr, /training\.seed/, 'only the keys that differ');
  assert.equal((await db.selectFrom('jobs').select('id').execute()).length, jobsBefore, 'no job was queued');
});
