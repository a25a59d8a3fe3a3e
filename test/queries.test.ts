// Every query in docs/queries.md runs against a registry that went through a real cycle
// (first model, a rejected and a promoted retrain, a rejected partition, a failed job)
// and returns rows. The views' columns are checked by name: they are a contract.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { runRetrainJob } from './support/retrain.ts';
import { trainConfig } from './support/train-config.ts';
import { updateDrift } from '../src/scheduler/index.ts';

const doc = fs.readFileSync(new URL('../docs/queries.md', import.meta.url), 'utf8');
const queries = [...doc.matchAll(/^## (.+)\n[\s\S]*?```sql\n([\s\S]*?)```/gm)].map((m) => ({ title: m[1]!, text: m[2]! }));

test('docs/queries.md: a dozen queries, each runs and returns rows; the views keep their columns', async () => {
  assert.ok(queries.length >= 12, `${queries.length} queries`);
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-queries-');
  const base = { FRESHET_SERVING_DIR: `${dir}/serving`, FRESHET_TRAINING__NUM_CHECKPOINTS: '6', FRESHET_TRAINING__STOP_POINT: '3', FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2' };
  const config = trainConfig(dir, url, base);
  for (let d = 1; d <= 2; d++) await addPartition(db, config.dataDir, `2026-11-0${d}`, syntheticRows(800, d));
  await runRetrainJob(db, config);
  await addPartition(db, config.dataDir, '2026-11-03', syntheticRows(800, 3));
  await runRetrainJob(db, trainConfig(dir, url, { ...base, FRESHET_EVAL__MIN_IMPROVEMENT: '100' })); // rejected
  await addPartition(db, config.dataDir, '2026-11-04', syntheticRows(800, 4, 2));
  await runRetrainJob(db, trainConfig(dir, url, { ...base, FRESHET_EVAL__MIN_IMPROVEMENT: '0' })); // shifted data: promoted
  await db.insertInto('partitions').values({ source: '/data', path: 'dt=2026-11-05', sha256: 'b'.repeat(64), status: 'rejected', error: 'dt=2026-11-05/part-0.csv:3: column y: not a number', arrived_at: new Date(), detected_at: new Date() }).execute();
  await db.insertInto('jobs').values({ kind: 'retrain', payload: { lineage: 'default' }, state: 'failed', attempts: 5, last_error: 'boom', finished_at: new Date() }).execute();
  await db.insertInto('partitions').values({ source: '/data', path: 'dt=2026-11-06', sha256: 'c'.repeat(64), status: 'quarantined', error: 'default: x1: expected at most 5.0% missing; observed 40.0% missing (320 of 800 rows)', arrived_at: new Date(), detected_at: new Date() }).execute();
  await updateDrift(db, config); // every partition learned: each column's drift is 0, without a partition

  for (const query of queries) {
    const result = await sql.raw(query.text).execute(db).catch((error: Error) => {
      throw new Error(`"${query.title}": ${error.message}`);
    });
    assert.ok(result.rows.length > 0, `"${query.title}" returned no rows`);
  }

  const columns = async (view: string) =>
    (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = ${view} order by ordinal_position`.execute(db)).rows.map((r) => r.column_name);
  assert.deepEqual(await columns('v_loss_curve'), ['lineage', 'run_id', 'run_kind', 'run_status', 'virtual_epoch', 'global_step', 'train_loss', 'val_loss', 'at', 'checkpoint_id', 'chosen_as_base', 'is_result']);
  assert.deepEqual(await columns('v_champion_history'), ['lineage', 'promotion_id', 'at', 'decision', 'version', 'previous_version', 'metric_name', 'metric', 'previous_metric', 'eval_rows', 'base_policy', 'actor', 'reason', 'run_id']);
  assert.deepEqual(await columns('partition_column_stats'), ['partition_id', 'source', 'path', 'version', 'status', 'row_count', 'column_name', 'kind', 'missing', 'missing_share', 'sampled', 'min', 'max', 'mean', 'stddev', 'p05', 'p50', 'p95', 'distinct_values', 'top_values']);
  assert.deepEqual(await columns('v_partition_lineage'), ['lineage', 'version', 'model_version_id', 'is_champion', 'partition_id', 'path', 'arrived_at', 'row_count']);
  const history = await sql<{ decision: string; version: number; previous_version: number | null }>`select decision, version, previous_version from v_champion_history order by at`.execute(db);
  assert.deepEqual(history.rows, [{ decision: 'promoted', version: 1, previous_version: null }, { decision: 'promoted', version: 2, previous_version: 1 }]);
});
