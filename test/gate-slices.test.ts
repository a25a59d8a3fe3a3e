// Slices (issue #29, item 4): the gate scores candidate and champion per value of each
// eval.slices column, and a candidate that is better overall but clearly worse for one
// group is rejected with the group named; the scores are kept on the decision and shown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { Rng } from '../src/core/rng.ts';
import { sliceRejection, sliceScores } from '../src/promotion/index.ts';
import { listPromotions } from '../src/registry/index.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';
import { renderStatusPage, statusReport } from '../src/observability/index.ts';
import { createTestDatabase } from './support/database.ts';
import { runRetrainJob } from './support/retrain.ts';
import { tempDir } from './support/partitions.ts';
import { trainEnv } from './support/train-config.ts';

test('sliceScores: each value with enough rows, worst first; sliceRejection names the slices past the limit', () => {
  // 300 rows of a (the candidate is better there), 300 of b (worse by 20%), 50 of c (too few to judge).
  const y = new Float32Array(650).fill(1);
  const champion = new Float32Array(650).fill(2); // |error| 1 everywhere
  const candidate = Float32Array.from({ length: 650 }, (_, r) => (r < 300 ? 1.5 : r < 600 ? 2.2 : 5)); // a 0.5, b 1.2, c 4
  const rowValues = Int32Array.from({ length: 650 }, (_, r) => (r < 300 ? 0 : r < 600 ? 1 : 2));
  const scores = sliceScores({ metric: 'mae', task: 'regression', y, candidate, champion, slices: [{ column: 'zone', rowValues, names: ['a', 'b', 'c'] }], minRows: 200 });
  assert.deepEqual(scores.map((s) => [s.value, s.rows]), [['b', 300], ['a', 300]], 'c has 50 rows: not scored');
  assert.ok(Math.abs(scores[0]!.regression - 0.2) < 1e-6 && Math.abs(scores[1]!.regression + 0.5) < 1e-6);
  assert.match(sliceRejection('mae', scores, 0.05)!, /^worse on 1 slice by more than eval\.maxSliceRegression 5\.0%: zone=b \(300 rows\): mae 1\.2000 vs the champion's 1\.0000, 20\.0% worse$/);
  assert.equal(sliceRejection('mae', scores, 0.25), undefined, '20% is inside a 25% limit');
  // Higher is better (auc): a lower candidate is the regression.
  const auc = sliceScores({ metric: 'auc', task: 'binary', y: Float32Array.from([0, 1, 0, 1]), candidate: Float32Array.from([0.6, 0.4, 0.4, 0.6]), champion: Float32Array.from([0.1, 0.9, 0.1, 0.9]), slices: [{ column: 'k', rowValues: Int32Array.from([0, 0, 0, 0]), names: ['all'] }], minRows: 1 });
  assert.ok(auc[0]!.regression > 0.4, `auc regression ${auc[0]!.regression}`);
});

test('eval.slices must name categorical columns: a clear error', () => {
  assert.throws(() => loadConfig({ env: { FRESHET_COLUMNS__FEATURES: '["x"]', FRESHET_COLUMNS__CATEGORICAL: '["zone"]', FRESHET_COLUMNS__LABEL: 'y', FRESHET_EVAL__SLICES: '["x"]' }, cwd: '/nonexistent' }), /eval\.slices\.0: x is not one of columns\.categorical \(zone\): a slice is a categorical column/);
});

/**
 * Zone a's label moves by +4 from day 4 on, for good. Zone b's moves by +3 on days 4 and 5
 * only, and is back on day 6 (the gate day): a retrain that learns days 4–5 is far better
 * for zone a and worse for zone b on day 6.
 */
function writeDay(dataDir: string, day: number): void {
  const rng = new Rng(40 + day);
  const rows = Array.from({ length: 800 }, () => {
    const zone = rng.next() < 0.5 ? 'a' : 'b';
    const x = rng.next() * 4 - 2;
    const y = (zone === 'a' ? 2 * x + (day >= 4 ? 4 : 0) : -x * x + (day === 4 || day === 5 ? 3 : 0)) + (rng.next() - 0.5) * 0.2;
    return `${x.toFixed(4)},${zone},${y.toFixed(4)}`;
  });
  const dir = path.join(dataDir, `dt=2026-11-${String(day).padStart(2, '0')}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'part-0.csv'), `x,zone,y\n${rows.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

test('a retrain with eval.slices: the slices are scored on the gate rows, kept on the decision, decide by the rule, and shown on the status page', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-slices-');
  const env = {
    ...trainEnv(dir, url),
    FRESHET_COLUMNS__FEATURES: '["x"]',
    FRESHET_COLUMNS__CATEGORICAL: '["zone"]',
    FRESHET_COLUMNS__LABEL: 'y',
    FRESHET_COLUMNS__VOCABULARY__MIN_COUNT: '1',
    FRESHET_EVAL__SLICES: '["zone"]',
    FRESHET_EVAL__MIN_SLICE_ROWS: '50',
    FRESHET_EVAL__MAX_SLICE_REGRESSION: '0',
    FRESHET_EVAL__MIN_IMPROVEMENT: '0',
    FRESHET_EVAL__CONFIDENCE: '0',
    FRESHET_TRAINING__STOP_POINT: '4',
  };
  const config = loadConfig({ env, cwd: dir });
  const watcher = new PartitionWatcher({ db, config, log: createLogger({ level: 'error', format: 'json' }) });
  for (let d = 1; d <= 3; d++) writeDay(config.dataDir, d);
  await watcher.scan();
  const first = (await runRetrainJob(db, config))!;
  const [firstDecision] = await listPromotions(db, first.lineage_id);
  assert.equal(firstDecision!.decision, 'promoted');
  assert.equal(firstDecision!.slice_scores, null, 'no champion to compare slices with');
  for (let d = 4; d <= 6; d++) writeDay(config.dataDir, d);
  await watcher.scan();
  const second = (await runRetrainJob(db, config))!;
  const decision = (await listPromotions(db, second.lineage_id)).find((p) => p.run_id === second.id)!;
  const slices = decision.slice_scores!;
  assert.deepEqual(slices.map((s) => s.value).sort(), ['a', 'b'], 'both zones have ≥ 50 gate rows');
  assert.equal(slices.reduce((n, s) => n + s.rows, 0), Number(decision.eval_rows));
  assert.ok(slices[0]!.regression >= slices[1]!.regression, 'worst first');
  // Better overall (zone a), worse for zone b: rejected, zone b named, the overall comparison kept in the reason.
  assert.ok(decision.candidate_metric! < decision.champion_metric!, `overall: candidate ${decision.candidate_metric} vs champion ${decision.champion_metric}`);
  assert.deepEqual(slices.map((s) => s.value), ['b', 'a']);
  assert.ok(slices[0]!.regression > 0 && slices[1]!.regression < 0, JSON.stringify(slices));
  assert.equal(decision.decision, 'rejected');
  assert.match(decision.reason, new RegExp(`^worse on 1 slice by more than eval\\.maxSliceRegression 0\\.0%: zone=b \\(${slices[0]!.rows} rows\\): mse [\\d.]+ vs the champion's [\\d.]+, [\\d.]+% worse: not promoted, though overall candidate mse`));
  // With room for it (a limit above b's regression), the same candidate would have been promoted.
  assert.equal(sliceRejection('mse', slices, slices[0]!.regression + 0.01), undefined);
  const page = renderStatusPage(await statusReport(db, config));
  assert.match(page, /<table id="slices">/);
  assert.match(page, /zone=a<\/td>/);
  assert.match(page, /zone=b<\/td>/);
});
