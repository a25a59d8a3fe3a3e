// `freshet train` as a real process: killed with SIGKILL or stopped with SIGTERM mid-run,
// then restarted, it ends with weights bit-identical to a run that was never interrupted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { getRun, listRunCheckpoints, getCheckpoint, type Registry } from '../src/registry/index.ts';
import { cleanEnv, runFreshet, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';
import { trainEnv } from './support/train-config.ts';

// Long enough (≈ 1,700 steps) that a signal lands mid-run.
const LONG = { FRESHET_TRAINING__NUM_CHECKPOINTS: '6', FRESHET_TRAINING__STOP_POINT: '6', FRESHET_LOG__LEVEL: 'info' };

async function setup() {
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-train-cli-');
  for (let d = 1; d <= 4; d++) await addPartition(db, `${dir}/data`, `2026-11-0${d}`, syntheticRows(5000, d));
  return { db, url, dir };
}

async function resultWeights(db: Registry, dir: string, runId: string): Promise<Buffer> {
  const run = await getRun(db, runId);
  assert.equal(run.status, 'succeeded');
  const checkpoint = await getCheckpoint(db, run.result_checkpoint_id!);
  return fs.readFileSync(path.join(dir, 'artifacts', checkpoint.uri, 'weights.bin'));
}

async function waitForCheckpoints(db: Registry, lineage: string, count: number): Promise<string> {
  for (let i = 0; i < 6000; i++) {
    const row = await db
      .selectFrom('checkpoints')
      .innerJoin('lineages', 'lineages.id', 'checkpoints.lineage_id')
      .select(['checkpoints.run_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('lineages.name', '=', lineage)
      .groupBy('checkpoints.run_id')
      .executeTakeFirst();
    if (row && Number(row.n) >= count) return row.run_id;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no checkpoints appeared');
}

async function reference(db: Registry, dir: string, url: string): Promise<Buffer> {
  const result = await runFreshet(['train', '--json'], { env: cleanEnv(trainEnv(dir, url, { ...LONG, FRESHET_LINEAGE: 'reference' })) });
  assert.equal(result.code, 0, result.stderr);
  return resultWeights(db, dir, JSON.parse(result.stdout).runId);
}

/** Starts `freshet train` for a lineage and waits until it has committed `checkpoints`. */
async function trainingUnderWay(db: Registry, dir: string, url: string, lineage: string, checkpoints: number) {
  const env = cleanEnv(trainEnv(dir, url, { ...LONG, FRESHET_LINEAGE: lineage }));
  const child = spawnFreshet(['train'], { env });
  const runId = await waitForCheckpoints(db, lineage, checkpoints);
  return { env, child, runId };
}

const tfjsNodeInstalled = await import('@tensorflow/tfjs-node' as string).then(() => true, () => false);

describe('freshet train as a process', () => {
  test('kill -9 mid-run, restart: resumes from the last committed checkpoint; weights equal an uninterrupted run', async () => {
    const { db, url, dir } = await setup();
    const expected = await reference(db, dir, url);
    const { env, child, runId } = await trainingUnderWay(db, dir, url, 'killed', 2);
    child.child.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');
    const before = await listRunCheckpoints(db, runId);
    assert.equal((await getRun(db, runId)).status, 'running', 'killed mid-run');
    const restarted = await runFreshet(['train', '--json'], { env });
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(JSON.parse(restarted.stdout).runId, runId, 'the same run resumed');
    assert.match(restarted.stderr, /resuming the unfinished run/);
    assert.ok(before.length >= 2);
    assert.deepEqual(await resultWeights(db, dir, runId), expected);
  });

  test('SIGTERM: finishes the step, checkpoints, exits 0; the resumed run ends bit-identical', async () => {
    const { db, url, dir } = await setup();
    const expected = await reference(db, dir, url);
    const { env, child, runId } = await trainingUnderWay(db, dir, url, 'stopped', 1);
    child.child.kill('SIGTERM');
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.stderr());
    await child.waitForLog('training interrupted; checkpoint written', 1);
    assert.match(child.stderr(), new RegExp(`resume with \`freshet train --resume ${runId}\``));
    const last = (await listRunCheckpoints(db, runId)).at(-1)!;
    assert.equal((await getRun(db, runId)).status, 'running');
    const resumed = await runFreshet(['train', '--resume', runId, '--json'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(Number(last.global_step) > 0);
    assert.deepEqual(await resultWeights(db, dir, runId), expected);
  });

  test('backend tensorflow without @tensorflow/tfjs-node installed fails with a clear message', { skip: tfjsNodeInstalled && 'tfjs-node is installed here' }, async () => {
    const { db, url } = await createTestDatabase();
    const dir = tempDir('freshet-train-cli-');
    await addPartition(db, `${dir}/data`, '2026-11-01', syntheticRows(200, 1));
    const result = await runFreshet(['train'], { env: cleanEnv(trainEnv(dir, url, { FRESHET_TRAINING__BACKEND: 'tensorflow' })) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /backend "tensorflow" needs @tensorflow\/tfjs-node, which is not installed/);
  });

  test('a second signal forces the exit (130); the run stays resumable', async () => {
    const { db, url, dir } = await setup();
    const { env, child, runId } = await trainingUnderWay(db, dir, url, 'forced', 1);
    // Two different signals: a second SIGTERM sent at once can merge with the pending first
    // one (standard signals do not queue); SIGTERM then SIGINT are both delivered, before
    // the graceful path (finish the step, checkpoint, close) can complete.
    child.child.kill('SIGTERM');
    child.child.kill('SIGINT');
    const exit = await child.exited;
    assert.equal(exit.code, 130, child.stderr());
    await child.waitForLog('second signal: forcing exit', 1);
    assert.equal((await getRun(db, runId)).status, 'running');
    const resumed = await runFreshet(['train', '--json'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).status, 'succeeded');
  });

  test('--from, --resume and --new are exclusive; --epochs must be a positive integer', async () => {
    const { url } = await createTestDatabase();
    const dir = tempDir('freshet-train-cli-');
    const env = cleanEnv(trainEnv(dir, url));
    const both = await runFreshet(['train', '--new', '--resume', '1'], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /at most one of --from, --resume and --new/);
    const epochs = await runFreshet(['train', '--epochs', 'zero'], { env });
    assert.equal(epochs.code, 2);
    assert.match(epochs.stderr, /--epochs must be a positive integer/);
  });
});
