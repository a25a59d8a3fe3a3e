// Invalid rows (issue #24, item 9): a partition with a few empty cells is registered with
// its invalid rows counted, and the run that trains on it says how many it skipped; both
// show in `partitions`, `status`, the status page and metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { countRegistration, createMetrics, renderStatusPage, statusReport } from '../src/observability/index.ts';
import { lastFinishedRunInvalidRows, listPartitions } from '../src/registry/index.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';
import { formatStatus } from '../src/cli/status-text.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { syntheticRows, tempDir, writeCsv } from './support/partitions.ts';
import { trainConfig, trainEnv } from './support/train-config.ts';
import { cleanEnv, runFreshet } from './support/cli.ts';

const log = createLogger({ level: 'silent', format: 'json' });

test('a partition with 3 empty cells registers with 3 invalid rows; the run skips them and says so; partitions, status, the page and metrics show it', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-invalid-');
  const config = trainConfig(dir, url);
  for (let d = 1; d <= 3; d++) {
    const rows = syntheticRows(400, d).map((r) => r.map(String));
    if (d === 2) for (const i of [5, 50, 300]) rows[i]![1] = ''; // three rows with an empty x1
    const partition = path.join(config.dataDir, `dt=2026-11-0${d}`);
    writeCsv(path.join(partition, 'part-0.csv'), rows as unknown as number[][]);
    fs.writeFileSync(path.join(partition, '_SUCCESS'), '');
  }
  const metrics = createMetrics();
  const watcher = new PartitionWatcher({ db, config, log });
  watcher.on('outcome', (outcome, arrivedAt) => countRegistration(metrics, ['default'], outcome, arrivedAt));
  await watcher.scan();
  const registered = await listPartitions(db, { status: 'registered' });
  assert.deepEqual(registered.map((p) => [p.path, Number(p.row_count), Number(p.invalid_rows)]).sort(), [
    ['dt=2026-11-01', 400, 0],
    ['dt=2026-11-02', 400, 3],
    ['dt=2026-11-03', 400, 0],
  ]);
  assert.match(await metrics.registry.getSingleMetricAsString('freshet_partition_invalid_rows_total'), /freshet_partition_invalid_rows_total{lineage="default"} 3$/m);

  const run = (await runRetrainJob(db, config))!;
  // The run counts the invalid rows of its training split once (validation rows are held out by row hash: 1 of the 3 here).
  assert.ok(Number(run.invalid_rows) >= 1 && Number(run.invalid_rows) <= 3, `the run counts the invalid rows it skipped: ${run.invalid_rows}`);
  assert.equal(await lastFinishedRunInvalidRows(db, config.lineage), Number(run.invalid_rows));

  const report = await statusReport(db, config);
  assert.equal(report.invalidRows, 3);
  assert.equal(report.runs[0]!.invalidRows, Number(run.invalid_rows));
  assert.match(formatStatus(report), /3 invalid rows in the registered ones/);
  assert.match(renderStatusPage(report), /<dd id="invalid-rows">3 in the registered partitions/);
  const listed = await runFreshet(['partitions'], { env: cleanEnv(trainEnv(dir, url)) });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /dt=2026-11-02\s+1\s+registered\s+400\s+3\s/);
});
