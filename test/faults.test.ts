// Faults of the machine and of the data during training: a full disk while a checkpoint is
// written (a size-limited tmpfs, as root), and a loss that becomes infinite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { getRun, getLineage, listRunCheckpoints } from '../src/registry/index.ts';
import { enqueueRetrain } from '../src/scheduler/index.ts';
import { claimJob } from '../src/queue/index.ts';
import { retrainJobHandler } from '../src/retrain/index.ts';
import { PermanentError } from '../src/core/errors.ts';
import { readDirVerified, trainRun } from '../src/trainer/index.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainConfig } from './support/train-config.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const never = new AbortController().signal;
const isRoot = process.getuid?.() === 0;

test('disk full while a checkpoint is written: the previous checkpoint is intact, the run stays resumable, and resumed it ends bit-identical', { skip: isRoot ? false : 'needs root to mount a size-limited tmpfs' }, async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-diskfull-');
  const artifacts = path.join(dir, 'artifacts');
  fs.mkdirSync(artifacts);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', artifacts]);
  after(() => execFileSync('umount', ['-l', artifacts]));
  for (let d = 1; d <= 2; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(1500, d));
  const env = { FRESHET_ARTIFACTS_DIR: artifacts, FRESHET_TRAINING__NUM_CHECKPOINTS: '6' };
  const reference = await trainRun({ db, config: trainConfig(dir, url, { ...env, FRESHET_LINEAGE: 'reference', FRESHET_ARTIFACTS_DIR: path.join(dir, 'reference') }), log, signal: never });
  const config = trainConfig(dir, url, env);

  const first = await trainRun({ db, config, log, signal: never, stopAfterSteps: 1 });
  const steps = (await getLineage(db, (await getRun(db, first.runId)).lineage_id)).steps_per_epoch;
  const part = await trainRun({ db, config, log, signal: never, resumeRunId: first.runId, stopAfterSteps: 2 * steps - 1 });
  assert.equal(part.globalStep, 2 * steps);
  // Fill the disk.
  const filler = path.join(artifacts, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024, 1));
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  await assert.rejects(trainRun({ db, config, log, signal: never, resumeRunId: first.runId }), (error: NodeJS.ErrnoException) => error.code === 'ENOSPC');
  assert.equal((await getRun(db, first.runId)).status, 'running', 'still resumable');
  const kept = await listRunCheckpoints(db, first.runId);
  assert.ok(kept.length >= 1);
  for (const c of kept) assert.doesNotThrow(() => readDirVerified(path.join(artifacts, c.uri), c.manifest_sha256), `checkpoint ${c.id} intact`);
  const leftovers = fs.readdirSync(path.join(artifacts, path.dirname(kept[0]!.uri))).filter((name) => name.startsWith('.tmp-'));
  assert.deepEqual(leftovers, [], 'the failed write left no temporary directory');

  fs.rmSync(filler); // space again
  const resumed = await trainRun({ db, config, log, signal: never, resumeRunId: first.runId });
  assert.equal(resumed.status, 'succeeded');
  assert.deepEqual(Buffer.from(resumed.weightBytes), Buffer.from(reference.weightBytes), 'bit-identical to a run that never hit the full disk');
});

test('a loss that becomes infinite fails the run and the job for good, with no decision and no new champion', async () => {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-nan-');
  const huge = syntheticRows(1200, 1).map((row) => [...row.slice(0, -1), 1e30]); // labels far beyond float32
  await addPartition(db, `${dir}/data`, '2026-11-01', huge);
  const config = trainConfig(dir, url, { FRESHET_SERVING_DIR: `${dir}/serving` });
  const { job } = await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 3, reason: 'test' });
  const claimed = (await claimJob(db, { workerId: 'test', leaseSeconds: 60 }))!;
  await assert.rejects(retrainJobHandler({ db, config, log })(claimed, { signal: never, leaseLost: () => false, progressed: () => {}, log }), (error: Error) => {
    assert.ok(error instanceof PermanentError, 'no point retrying');
    assert.match(error.message, /training loss became (NaN|Infinity) in virtual epoch 1/);
    return true;
  });
  const run = await db.selectFrom('runs').selectAll().where('job_id', '=', job.id).executeTakeFirstOrThrow();
  assert.equal(run.status, 'failed');
  assert.match(run.error!, /training loss became/);
  assert.equal((await db.selectFrom('promotions').select('id').execute()).length, 0);
  assert.equal((await db.selectFrom('model_versions').select('id').execute()).length, 0);
  assert.equal(fs.existsSync(path.join(dir, 'serving')), false);
});
