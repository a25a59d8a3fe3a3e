// kill -9 the daemon at 20 random moments (startup, registration, training, checkpoint
// writes, the gate, the export); after each kill the registry is consistent; in the end
// training has resumed and finished, and the champion's weights equal those of a run that
// was never interrupted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { getChampion, findLineageByName, type Registry } from '../../src/registry/index.ts';
import { readDirVerified } from '../../src/trainer/index.ts';
import { Rng } from '../../src/core/rng.ts';
import { runFreshet, spawnFreshet } from '../support/cli.ts';
import { createTestDatabase } from '../support/database.ts';
import { dropPartition, slowTrainingEnv } from '../support/daemon.ts';
import { syntheticRows, tempDir, writeCsv } from '../support/partitions.ts';
import { waitFor } from '../support/wait.ts';

const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const SEED = Number(process.env.CRASH_SEED ?? 20261126);
/** `postgres` runs the same scenario with checkpoints stored in the registry too. */
const ARTIFACT_STORE = process.env.CRASH_ARTIFACT_STORE ?? 'fs';

function scenarioEnv(dir: string, url: string): NodeJS.ProcessEnv {
  return slowTrainingEnv(dir, url, {
    FRESHET_SERVING_DIR: `${dir}/serving`,
    FRESHET_ARTIFACT_STORE: ARTIFACT_STORE,
    FRESHET_TRAINING__NUM_CHECKPOINTS: '10',
    FRESHET_TRAINING__STOP_POINT: '40',
    FRESHET_RETRAIN__VIRTUAL_EPOCHS: '6',
    FRESHET_EVAL__MIN_IMPROVEMENT: '0',
    FRESHET_QUEUE__LEASE_SECONDS: '2',
    FRESHET_QUEUE__HEARTBEAT_SECONDS: '0.5',
    FRESHET_QUEUE__POLL_INTERVAL_SECONDS: '0.3',
    // Each kill of a worker holding the job costs an attempt (its lease expires); twenty
    // kills would exhaust the default 5. (An exhausted job's run is adopted by the next
    // job anyway; this keeps the scenario to one job per training.)
    FRESHET_QUEUE__MAX_ATTEMPTS: '100',
  });
}

/** Partitions that arrive one at a time, each once the previous one's decision is made. */
const LATER = [
  { day: '2026-11-04', shift: 1.5 },
  { day: '2026-11-05', shift: 1.5 },
  { day: '2026-11-06', shift: 3 },
];

function writeLater(dataDir: string, index: number): void {
  const { day, shift } = LATER[index]!;
  const dir = path.join(dataDir, `dt=${day}`);
  writeCsv(path.join(dir, 'part-0.csv'), syntheticRows(1500, 4 + index, shift));
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

async function champion(db: Registry): Promise<number | undefined> {
  const lineage = await findLineageByName(db, 'default');
  return lineage ? (await getChampion(db, lineage.id))?.version : undefined;
}

async function registryState(db: Registry): Promise<string> {
  const jobs = await db.selectFrom('jobs').select(['id', 'state', 'attempts', 'last_error']).execute();
  const runs = await db.selectFrom('runs').select(['id', 'job_id', 'status', 'error']).execute();
  const decisions = await db.selectFrom('promotions').select(['run_id', 'decision']).execute();
  return JSON.stringify({ jobs, runs, decisions });
}

/** True when `decisions` gate decisions are made and no job is queued or running. */
async function settled(db: Registry, decisions: number): Promise<boolean> {
  const made = await db.selectFrom('promotions').select('id').where('decision', 'in', ['promoted', 'rejected']).execute();
  const live = await db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute();
  return made.length >= decisions && live.length === 0;
}

/** What must hold whenever no process runs, whenever it was killed. */
async function assertConsistent(db: Registry, dir: string, context: string): Promise<void> {
  for (const c of await db.selectFrom('checkpoints').selectAll().execute()) {
    assert.doesNotThrow(() => readDirVerified(path.join(dir, 'artifacts', c.uri), c.manifest_sha256), `${context}: checkpoint ${c.id} has a row but its files are missing or damaged`);
  }
  const partitions = await db.selectFrom('partitions').selectAll().execute();
  assert.ok(partitions.every((p) => p.status === 'registered' && p.error === null && /^[0-9a-f]{64}$/.test(p.sha256) && Number(p.row_count) > 0), `${context}: a partition row is not fully registered`);
  assert.equal(new Set(partitions.map((p) => p.path)).size, partitions.length, `${context}: a partition registered twice`);
  const runs = await db.selectFrom('runs').select(['id', 'job_id']).execute();
  assert.equal(new Set(runs.map((r) => r.job_id)).size, runs.length, `${context}: a job started two runs`);
  const decisions = await db.selectFrom('promotions').selectAll().where('decision', 'in', ['promoted', 'rejected']).execute();
  assert.equal(new Set(decisions.map((d) => d.run_id)).size, decisions.length, `${context}: a run was decided twice`);
  const versions = await db.selectFrom('model_versions').select('version').orderBy('version').execute();
  assert.deepEqual(versions.map((v) => v.version), versions.map((_, i) => i + 1), `${context}: version numbers have a gap or a duplicate`);
  assert.equal(versions.length, decisions.filter((d) => d.decision === 'promoted').length, `${context}: a version without its promotion`);
}

/** Every checkpoint directory on disk has its row (after the daemon that resumed the work swept). */
async function assertNoOrphanFiles(db: Registry, dir: string): Promise<void> {
  const root = path.join(dir, 'artifacts', 'checkpoints');
  const known = new Set((await db.selectFrom('checkpoints').select('uri').execute()).map((c) => path.normalize(c.uri)));
  for (const lineage of fs.readdirSync(root)) {
    for (const run of fs.readdirSync(path.join(root, lineage))) {
      for (const entry of fs.readdirSync(path.join(root, lineage, run))) {
        const uri = path.normalize(path.join('checkpoints', lineage, run, entry));
        assert.ok(known.has(uri), `files without a row: ${uri}`);
      }
    }
  }
}

/**
 * What each run did, in terms that do not depend on ids or timing: its base (run ordinal
 * and step), the checkpoints it kept, its epoch losses and the gate's decision. Compared
 * with the uninterrupted run's before the weights, so that a difference names the run.
 */
async function runHistory(db: Registry): Promise<unknown[]> {
  const runs = await db.selectFrom('runs').selectAll().where('status', '=', 'succeeded').orderBy('id').execute();
  const ordinal = new Map(runs.map((r, i) => [r.id, i + 1]));
  const history = [];
  for (const run of runs) {
    const base = run.base_checkpoint_id ? await db.selectFrom('checkpoints').select(['run_id', 'global_step']).where('id', '=', run.base_checkpoint_id).executeTakeFirst() : undefined;
    const kept = await db.selectFrom('checkpoints').select('global_step').where('run_id', '=', run.id).orderBy('global_step').execute();
    const losses = await db.selectFrom('epoch_losses').select(['virtual_epoch', 'train_loss', 'val_loss']).where('run_id', '=', run.id).orderBy('virtual_epoch').execute();
    const partitions = await db.selectFrom('run_partitions').innerJoin('partitions', 'partitions.id', 'run_partitions.partition_id').select(['partitions.path', 'run_partitions.role']).where('run_id', '=', run.id).orderBy('partitions.path').orderBy('role').execute();
    const decision = await db.selectFrom('promotions').select(['decision', 'candidate_metric', 'champion_metric']).where('run_id', '=', run.id).executeTakeFirst();
    history.push({
      run: ordinal.get(run.id),
      kind: run.kind,
      base: base ? `run ${ordinal.get(base.run_id)} step ${base.global_step}` : null,
      basePolicy: (run.base_selection as { chosen?: { name?: string } } | null)?.chosen?.name ?? null,
      kept: kept.map((c) => Number(c.global_step)),
      losses: losses.map((l) => [l.virtual_epoch, l.train_loss, l.val_loss]),
      partitions: partitions.map((p) => `${p.role} ${p.path}`),
      decision,
    });
  }
  return history;
}

async function servedWeights(dir: string): Promise<Buffer> {
  return fs.readFileSync(path.join(dir, 'serving', 'default', 'current', 'weights.bin'));
}

test(`kill -9 at ${KILLS} random moments: the registry stays consistent and the final champion equals an uninterrupted run's`, async () => {
  // The reference: the same scenario, never interrupted.
  const reference = await createTestDatabase();
  const refDir = tempDir('freshet-crash-ref-');
  for (const day of ['2026-11-01', '2026-11-02', '2026-11-03']) dropPartition(`${refDir}/data`, day, 1500);
  assert.equal((await runFreshet(['scan'], { env: scenarioEnv(refDir, reference.url) })).code, 0);
  const refDaemon = spawnFreshet(['daemon'], { env: scenarioEnv(refDir, reference.url) });
  await waitFor('the first decision', () => settled(reference.db, 1), 120_000, 100);
  for (let i = 0; i < LATER.length; i++) {
    writeLater(`${refDir}/data`, i);
    await waitFor(`decision ${i + 2}`, () => settled(reference.db, i + 2), 120_000, 100);
  }
  refDaemon.child.kill('SIGTERM');
  assert.equal((await refDaemon.exited).code, 0, refDaemon.stderr());
  fs.writeFileSync(path.join(refDir, 'daemon.log'), refDaemon.stderr());
  const refChampion = await champion(reference.db);

  // The same scenario, killed again and again.
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-crash-');
  // Every daemon's log, for whoever reads a failure.
  process.stderr.write(`crash test (seed ${SEED}): daemon logs in ${refDir}/daemon.log (uninterrupted) and ${dir}/daemon.log\n`);
  const keepLog = (daemon: ReturnType<typeof spawnFreshet>, title: string): void => fs.appendFileSync(path.join(dir, 'daemon.log'), `=== ${title}\n${daemon.stderr()}`);
  for (const day of ['2026-11-01', '2026-11-02', '2026-11-03']) dropPartition(`${dir}/data`, day, 1500);
  assert.equal((await runFreshet(['scan'], { env: scenarioEnv(dir, url) })).code, 0);
  const rng = new Rng(SEED);
  const phases: string[] = [];
  let written = 0; // of LATER
  for (let kill = 1; kill <= KILLS; kill++) {
    const daemon = spawnFreshet(['daemon'], { env: scenarioEnv(dir, url) });
    // Aim at the moments that matter: some kills at a random time, the others a few
    // milliseconds after a log line that opens a critical section, or while a new
    // partition is being registered.
    const previousDecided = await settled(db, 1 + written);
    const trigger = rng.next() < 0.25 ? undefined : ['checkpoint written', 'training run finished', 'retrain base chosen', 'candidate promoted', 'candidate rejected'][Math.floor(rng.next() * 5)]!;
    if (previousDecided && written < LATER.length) {
      await daemon.waitForLog('freshet running', 30_000).catch(() => {});
      writeLater(`${dir}/data`, written++);
      await delay(rng.next() * 60);
    } else if (trigger) {
      await daemon.waitForLog(trigger, 6_000).catch(() => {});
      await delay(rng.next() * 30);
    } else {
      await delay(300 + rng.next() * 2700);
    }
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    keepLog(daemon, `daemon ${kill}, killed`);
    const last = [...daemon.lines].reverse().find((l) => l.msg && l.level !== 20);
    phases.push(String(last?.msg ?? '(before the first log line)'));
    await assertConsistent(db, dir, `after kill ${kill} (last log: ${phases.at(-1)})`);
  }
  // No more kills: let it finish, feeding what is left one at a time as the reference did.
  const last = spawnFreshet(['daemon'], { env: scenarioEnv(dir, url) });
  await last.waitForLog('freshet running', 60_000);
  const finish = async (decisions: number): Promise<void> => {
    await waitFor(`decision ${decisions} after the kills`, () => settled(db, decisions), 180_000, 100).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await registryState(db)}\n${last.stderr().slice(-3000)}`);
    });
  };
  await finish(1 + written);
  while (written < LATER.length) {
    writeLater(`${dir}/data`, written++);
    await finish(1 + written);
  }
  last.child.kill('SIGTERM');
  assert.equal((await last.exited).code, 0, last.stderr());
  keepLog(last, 'the last daemon, stopped');
  await assertConsistent(db, dir, 'at the end');
  await assertNoOrphanFiles(db, dir);
  const stuck = await db.selectFrom('jobs').select(['id', 'state']).where('state', '!=', 'succeeded').execute();
  assert.deepEqual(stuck, [], 'every job succeeded: none stuck running');
  assert.deepEqual(await runHistory(db), await runHistory(reference.db), 'every run as in the uninterrupted scenario (base, kept checkpoints, losses, partitions, decision)');
  assert.equal(await champion(db), refChampion, 'the same champion version as the uninterrupted run');
  assert.deepEqual(await servedWeights(dir), await servedWeights(refDir), 'the champion\'s weights equal the uninterrupted run\'s, bit for bit');
  process.stderr.write(`crash test (seed ${SEED}): last log line before each kill:\n${[...new Set(phases)].map((p) => `  ${phases.filter((q) => q === p).length}× ${p}`).join('\n')}\n`);
});
