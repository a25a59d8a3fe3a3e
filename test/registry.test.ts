// Repositories and the constraints that protect the registry's data, on a real server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHAMPION,
  createLineage,
  createModelVersion,
  createRunWithPartitions,
  enqueueJob,
  finishRun,
  findLatestPartitionVersion,
  findRegisteredPartition,
  getChampion,
  insertCheckpoint,
  insertLossPoints,
  insertPartition,
  listLossPoints,
  listModelVersions,
  listRunCheckpoints,
  recordEvent,
  recordPromotion,
  setAlias,
  supersedePartition,
  type Registry,
} from '../src/registry/index.ts';
import { createTestDatabase } from './support/database.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

/** Asserts that a promise fails with the given Postgres SQLSTATE. */
async function rejectsWith(promise: Promise<unknown>, sqlstate: string, what: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: string }) => {
    assert.equal(error.code, sqlstate, `${what}: expected SQLSTATE ${sqlstate}, got ${error.code}`);
    return true;
  });
}

function partition(path: string, sha256: string, extra: Record<string, unknown> = {}) {
  return { source: '/data', path, sha256, status: 'registered' as const, error: null, arrived_at: new Date(), detected_at: new Date(), ...extra };
}

async function lineageWithRun(db: Registry, name: string) {
  const lineage = await createLineage(db, {
    name,
    task: 'regression',
    config: {},
    config_sha256: SHA_A,
    batch_size: 256,
    num_checkpoints: 15,
    stop_point: 3,
    train_examples: 50_000,
    steps_per_epoch: 39,
    feature_stats: {},
  });
  const run = await createRunWithPartitions(db, { lineage_id: lineage.id, kind: 'initial', seed: 1, backend: 'wasm' }, []);
  return { lineage, run };
}

async function checkpoint(db: Registry, runId: string, lineageId: string, step: number) {
  return insertCheckpoint(db, {
    run_id: runId,
    lineage_id: lineageId,
    virtual_epoch: step,
    global_step: step * 10,
    uri: `file:///ckpt/${runId}/${step}`,
    manifest_sha256: SHA_A,
    bytes: 1024,
    train_loss: 1 / (step + 1),
  });
}

describe('partitions', () => {
  test('one row per version at a path; the newest version is what the path holds, even when its content returns to an earlier one', async () => {
    const { db } = await createTestDatabase();
    await insertPartition(db, partition('dt=2026-11-26', SHA_A, { status: 'superseded' }));
    await rejectsWith(insertPartition(db, partition('dt=2026-11-26', SHA_B, { status: 'rejected', error: 'x' })), '23505', 'the same version twice');
    await insertPartition(db, partition('dt=2026-11-26', SHA_B, { status: 'superseded', version: 2 }));
    await insertPartition(db, partition('dt=2026-11-26', SHA_A, { version: 3 })); // restored from a backup
    const latest = await findLatestPartitionVersion(db, '/data', 'dt=2026-11-26');
    assert.equal(latest?.version, 3);
    assert.equal(latest?.sha256, SHA_A);
  });

  test('at most one registered version per path; superseding frees the slot', async () => {
    const { db } = await createTestDatabase();
    const v1 = await insertPartition(db, partition('dt=2026-11-26', SHA_A));
    await rejectsWith(insertPartition(db, partition('dt=2026-11-26', SHA_B, { version: 2 })), '23505', 'second registered version');
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('partitions').set({ status: 'superseded' }).where('id', '=', v1.id).execute();
      const v2 = await insertPartition(trx, partition('dt=2026-11-26', SHA_B, { version: 2 }));
      await supersedePartition(trx, v1.id, v2.id);
    });
    const current = await findRegisteredPartition(db, '/data', 'dt=2026-11-26');
    assert.equal(current?.sha256, SHA_B);
    assert.equal(current?.version, 2);
  });

  test('a rejected partition must say why, and a registered one must not carry an error', async () => {
    const { db } = await createTestDatabase();
    await rejectsWith(insertPartition(db, partition('dt=1', SHA_A, { status: 'rejected', error: null })), '23514', 'rejected without error');
    await rejectsWith(insertPartition(db, partition('dt=2', SHA_A, { error: 'oops' })), '23514', 'registered with error');
    await rejectsWith(insertPartition(db, partition('dt=3', SHA_A, { status: 'lost' })), '23514', 'unknown status');
    await rejectsWith(insertPartition(db, partition('dt=4', 'not-a-hash')), '23514', 'malformed sha256');
  });
});

describe('runs, checkpoints and loss points', () => {
  test('a checkpoint must belong to an existing run', async () => {
    const { db } = await createTestDatabase();
    const { lineage } = await lineageWithRun(db, 'l');
    await rejectsWith(checkpoint(db, '999999', lineage.id, 1), '23503', 'checkpoint of a missing run');
  });

  test('checkpoints list in step order; a step is checkpointed once per run', async () => {
    const { db } = await createTestDatabase();
    const { lineage, run } = await lineageWithRun(db, 'l');
    await checkpoint(db, run.id, lineage.id, 2);
    await checkpoint(db, run.id, lineage.id, 1);
    assert.deepEqual((await listRunCheckpoints(db, run.id)).map((c) => c.virtual_epoch), [1, 2]);
    await rejectsWith(checkpoint(db, run.id, lineage.id, 1), '23505', 'same step twice');
  });

  test('finishing a run sets its end; finishing it twice is refused', async () => {
    const { db } = await createTestDatabase();
    const { run } = await lineageWithRun(db, 'l');
    const done = await finishRun(db, run.id, 'succeeded');
    assert.ok(done.finished_at instanceof Date);
    await assert.rejects(finishRun(db, run.id, 'failed'), /run \d+ is not running/);
  });

  test('loss points: replaying a step keeps the first value', async () => {
    const { db } = await createTestDatabase();
    const { run } = await lineageWithRun(db, 'l');
    await insertLossPoints(db, run.id, [{ step: 10, loss: 0.5 }, { step: 20, loss: 0.25 }]);
    await insertLossPoints(db, run.id, [{ step: 20, loss: 9 }, { step: 30, loss: 0.125 }]);
    assert.deepEqual(await listLossPoints(db, run.id), [
      { step: 10, loss: 0.5 },
      { step: 20, loss: 0.25 },
      { step: 30, loss: 0.125 },
    ]);
  });
});

describe('jobs', () => {
  test('enqueue with a singleton key is idempotent while the job is live', async () => {
    const { db } = await createTestDatabase();
    const first = await enqueueJob(db, { kind: 'retrain', singleton_key: 'retrain:1:42' });
    const second = await enqueueJob(db, { kind: 'retrain', singleton_key: 'retrain:1:42' });
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.job.id, first.job.id);
    await db.updateTable('jobs').set({ state: 'succeeded', finished_at: new Date() }).where('id', '=', first.job.id).execute();
    const third = await enqueueJob(db, { kind: 'retrain', singleton_key: 'retrain:1:42' });
    assert.equal(third.created, true, 'a finished job no longer blocks its key');
  });

  test('states are checked, and a running job must hold a lease', async () => {
    const { db } = await createTestDatabase();
    const { job } = await enqueueJob(db, { kind: 'retrain' });
    await rejectsWith(db.updateTable('jobs').set({ kind: 'train' as 'retrain' }).where('id', '=', job.id).execute(), '23514', 'the unused kind train is gone');
    await rejectsWith(db.updateTable('jobs').set({ state: 'exploded' as 'failed' }).where('id', '=', job.id).execute(), '23514', 'unknown state');
    await rejectsWith(db.updateTable('jobs').set({ state: 'running' }).where('id', '=', job.id).execute(), '23514', 'running without a lease');
  });
});

describe('model versions and aliases', () => {
  test('versions number 1, 2, … per lineage; champion is one alias per lineage', async () => {
    const { db } = await createTestDatabase();
    const { lineage, run } = await lineageWithRun(db, 'taxi');
    const ckpt = await checkpoint(db, run.id, lineage.id, 1);
    const ckpt2 = await checkpoint(db, run.id, lineage.id, 2);
    const v1 = await createModelVersion(db, { lineage_id: lineage.id, run_id: run.id, checkpoint_id: ckpt.id, metric_name: 'mse', eval_metric: 2 }, []);
    const v2 = await createModelVersion(db, { lineage_id: lineage.id, run_id: run.id, checkpoint_id: ckpt2.id, metric_name: 'mse', eval_metric: 1 }, []);
    assert.deepEqual((await listModelVersions(db, lineage.id)).map((v) => v.version), [1, 2]);
    await rejectsWith(createModelVersion(db, { lineage_id: lineage.id, run_id: run.id, checkpoint_id: ckpt.id, metric_name: 'mse', eval_metric: 2 }, []), '23505', 'two versions of one checkpoint');
    await setAlias(db, lineage.id, CHAMPION, v1.id);
    await setAlias(db, lineage.id, CHAMPION, v2.id);
    assert.equal((await getChampion(db, lineage.id))?.id, v2.id);
    const count = await db.selectFrom('aliases').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1);
    await rejectsWith(
      db.insertInto('aliases').values({ lineage_id: lineage.id, name: CHAMPION, model_version_id: v1.id }).execute(),
      '23505',
      'second champion row',
    );
  });

  test('an alias cannot point at another lineage’s version', async () => {
    const { db } = await createTestDatabase();
    const a = await lineageWithRun(db, 'a');
    const b = await lineageWithRun(db, 'b');
    const ckpt = await checkpoint(db, a.run.id, a.lineage.id, 1);
    const version = await createModelVersion(db, { lineage_id: a.lineage.id, run_id: a.run.id, checkpoint_id: ckpt.id, metric_name: 'mse', eval_metric: 1 }, []);
    await rejectsWith(setAlias(db, b.lineage.id, CHAMPION, version.id), '23503', 'cross-lineage alias');
  });

  test('promotion decisions and events are recorded', async () => {
    const { db } = await createTestDatabase();
    const { lineage, run } = await lineageWithRun(db, 'l');
    const promotion = await recordPromotion(db, { lineage_id: lineage.id, run_id: run.id, decision: 'rejected', reason: 'worse by 3%', candidate_metric: 1.03, champion_metric: 1 });
    assert.equal(promotion.decision, 'rejected');
    await rejectsWith(recordPromotion(db, { lineage_id: lineage.id, decision: 'maybe' as 'rejected', reason: 'x' }), '23514', 'unknown decision');
    const event = await recordEvent(db, { kind: 'promotion.rejected', lineage_id: lineage.id, run_id: run.id, message: 'candidate worse', data: { ratio: 1.03 } });
    assert.deepEqual(event.data, { ratio: 1.03 });
  });
});
