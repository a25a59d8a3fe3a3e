// Partitions as producers write them, daemon configurations (runs long enough to
// interrupt, or quick ones for several daemons), and starting, stopping and watching daemons.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { countJobsByState } from '../../src/queue/index.ts';
import { findLineageByName, freshPartitions, listPartitions, type Registry } from '../../src/registry/index.ts';
import { cleanEnv, spawnFreshet } from './cli.ts';
import { syntheticRows, writeCsv } from './partitions.ts';
import { trainEnv } from './train-config.ts';

/** A partition as a producer writes it: data first, then the marker. */
export function dropPartition(dataDir: string, day: string, rows: number): void {
  const dir = path.join(dataDir, `dt=${day}`);
  writeCsv(path.join(dir, 'part-0.csv'), syntheticRows(rows, Number(day.replaceAll('-', ''))));
  fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
}

/** Long enough runs to interrupt: 40 passes in 20 virtual epochs (≈ 10 s here). */
export function slowTrainingEnv(dir: string, url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    ...trainEnv(dir, url),
    FRESHET_TRAINING__NUM_CHECKPOINTS: '20',
    FRESHET_TRAINING__STOP_POINT: '40',
    FRESHET_TRAINING__EARLY_STOPPING__ENABLED: 'false',
    FRESHET_RETRAIN__SCHEDULE: '',
    FRESHET_LOG__LEVEL: 'info',
    ...extra,
  });
}


/** Small, quick runs for tests with several daemons: the point is coordination, not training. */
export function quickClusterEnv(dir: string, url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return slowTrainingEnv(dir, url, {
    FRESHET_RETRAIN__VIRTUAL_EPOCHS: '2',
    FRESHET_TRAINING__NUM_CHECKPOINTS: '4',
    FRESHET_TRAINING__STOP_POINT: '2',
    FRESHET_QUEUE__POLL_INTERVAL_SECONDS: '0.5',
    ...extra,
  });
}

/** Starts `count` daemon processes on one configuration and waits until each runs. */
export async function startDaemons(count: number, env: NodeJS.ProcessEnv): Promise<Array<ReturnType<typeof spawnFreshet>>> {
  const daemons = Array.from({ length: count }, () => spawnFreshet(['daemon'], { env }));
  await Promise.all(daemons.map((d) => d.waitForLog('freshet running')));
  return daemons;
}

/** SIGTERM to each; each must exit 0 (a graceful stop within the bound). */
export async function stopDaemons(daemons: ReadonlyArray<ReturnType<typeof spawnFreshet>>): Promise<void> {
  for (const d of daemons) d.child.kill('SIGTERM');
  for (const d of daemons) assert.equal((await d.exited).code, 0, d.stderr().slice(-2000));
}

/**
 * Registered partitions, the fresh ones no finished run has tried yet (the registry's one
 * definition: what the retrain policy counts), and jobs queued or running.
 */
export async function backlog(db: Registry, lineage = 'default'): Promise<{ registered: number; untrained: number; live: number }> {
  const registered = (await listPartitions(db, { status: 'registered', limit: 1_000_000 })).length;
  // Every partition of these tests is in one data folder: the source of the first one.
  const source = (await listPartitions(db, { limit: 1 }))[0]?.source ?? '';
  const lineageRow = await findLineageByName(db, lineage);
  const untrained = (await freshPartitions(db, { id: lineageRow?.id ?? null, source })).filter((p) => !p.tried).length;
  const jobs = await countJobsByState(db);
  return { registered, untrained, live: jobs.queued + jobs.running };
}
