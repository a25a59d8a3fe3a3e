// `freshet demo` / `npm run demo`: the whole loop on generated taxi-fare data, on an
// embedded PostgreSQL of its own. A feeder writes one day's partition at a time while the
// real daemon (watcher, scheduler, worker, gate, export) runs in this process; each step
// is told as it happens, and a summary closes the run.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../core/config.ts';
import { runDaemon } from '../daemon.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { countJobsByState } from '../queue/index.ts';
import { listRuns, getModelVersion, getChampion, findLineageByName, freshPartitions, getRun, listEpochLosses, listModelVersions, listPartitions, listPromotions, migrateToLatest, newestTrainingDataArrival, openRegistry, startThrowawayPostgres, type Registry } from '../registry/index.ts';
import { formatTable } from '../core/table.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import { prepareDemoFolder } from './demo-folder.ts';
import { TAXI_FEATURES, TAXI_LABEL, taxiDate as dateOf, taxiTrips, writeTaxiPartition } from './taxi-fares.ts';

export interface DemoOptions {
  dir: string;
  /** Reuse a non-empty folder that is not an earlier demo's (its demo entries are cleared). */
  force: boolean;
  /** Days fed one at a time after the first three (the backfill the first model trains on). */
  days: number;
  rowsPerDay: number;
  /** The day (0-based) the new tariff starts. */
  shiftDay: number;
  logLevel: 'warn' | 'info' | 'debug';
  signal: AbortSignal;
  out: (line: string) => void;
}

const BACKFILL = 3;
const DEMO_LINEAGE = 'taxi-fares';
/** The freshet package's root (where bin/freshet.mjs is). */
const PACKAGE_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A word for a POSIX shell: as is when plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * How to run freshet from `dir`: `npx freshet` inside this package (npx finds its bin, on
 * the pinned Node), else this very Node and bin by absolute path — outside the checkout
 * npx knows no freshet, and the bin's `#!/usr/bin/env node` may find an older system Node.
 */
export function freshetCommandFrom(dir: string): string {
  const inside = !path.relative(PACKAGE_ROOT, dir).startsWith('..') && !path.isAbsolute(path.relative(PACKAGE_ROOT, dir));
  return inside ? 'npx freshet' : `${shellWord(process.execPath)} ${shellWord(path.join(PACKAGE_ROOT, 'bin', 'freshet.mjs'))}`;
}

/**
 * Waits until the partition of `date` is registered and no longer untried fresh data (a
 * finished run trained on it: promoted, or tried by a rejected candidate), and the queue
 * is idle. "Fresh" is the registry's one definition (freshPartitions).
 */
async function waitForDecision(db: Registry, { lineage: lineageName, dataDir }: { lineage: string; dataDir: string }, date: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw new Error('interrupted');
    const registered = (await listPartitions(db, { source: dataDir, status: 'registered', limit: 1_000_000 })).some((p) => p.path === `dt=${date}`);
    const lineage = await findLineageByName(db, lineageName);
    const untried = lineage ? (await freshPartitions(db, { id: lineage.id, source: dataDir })).some((p) => p.path === `dt=${date}` && !p.tried) : true;
    const jobs = await countJobsByState(db);
    if (registered && !untried && jobs.queued + jobs.running === 0) return;
    await delay(100);
  }
}

async function tellLatest(db: Registry, lineageName: string, seen: Set<string>, out: (line: string) => void): Promise<void> {
  const lineage = await findLineageByName(db, lineageName);
  if (!lineage) return;
  const decisions = (await listPromotions(db, lineage.id, 50)).reverse().filter((d) => !seen.has(d.id));
  for (const d of decisions) {
    seen.add(d.id);
    const run = d.run_id ? await getRun(db, d.run_id) : undefined;
    const epochs = run ? await listEpochLosses(db, run.id) : [];
    const selection = run?.base_selection as { reason?: string } | null | undefined;
    const trained = run ? `${run.kind} run ${run.id}: virtual epochs ${epochs[0]?.virtual_epoch ?? '-'}–${epochs.at(-1)?.virtual_epoch ?? '-'} of ${lineage.steps_per_epoch} steps` : '';
    out(`    ${trained}${selection?.reason ? `\n    base: ${selection.reason}` : ''}`);
    const version = d.candidate_version_id ? (await getModelVersion(db, d.candidate_version_id)).version : undefined;
    out(`    gate: ${d.decision.toUpperCase()}${version ? ` → champion v${version}` : ''}: ${d.reason}`);
  }
}

/** The demo, as the story it prints: each stage in order (why one function: it reads as that story, each stage a few lines). */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { dir, out, signal } = options;
  const started = performance.now();
  prepareDemoFolder(dir, options.force);
  const log: Logger = createLogger({ level: options.logLevel, format: 'auto' });
  out(`freshet demo in ${dir}: taxi fares, ${BACKFILL} days of backfill, then ${options.days} days one at a time; prices hold until a new tariff starts on ${dateOf(options.shiftDay)}, then creep up 1% a day.`);
  out('starting an embedded PostgreSQL for the demo (DATABASE_URL is ignored: the demo never writes to your registry)…');
  const { server, dataDir: pgDir } = await startThrowawayPostgres(path.join(dir, 'pg'), 'demo', log, (why, moved) => out(`    (${why}: the demo's database goes to ${moved} instead)`));
  // A real configuration file, so that `freshet status`, `models`, `plateau`… work in the
  // demo's folder afterwards (they start the same embedded server from ./pg).
  const configFile = path.join(dir, 'freshet.config.yaml');
  fs.writeFileSync(
    configFile,
    `# Written by freshet demo.
dataDir: data
artifactsDir: artifacts
servingDir: serving
lineage: ${DEMO_LINEAGE}
database:
  embedded:
    dataDir: ${pgDir}
    database: freshet
columns:
  features: ${JSON.stringify(TAXI_FEATURES)}
  label: ${TAXI_LABEL}
model:
  hidden: [64, 64]
training:
  batchSize: 128
  learningRate: 0.003
  numCheckpoints: 12
  stopPoint: 8
  earlyStopping:
    patience: 2
retrain:
  virtualEpochs: 4
  schedule: ""
eval:
  minImprovement: 0.05   # a new model must be 5% better on the newest partition (the holdout) to replace the champion
queue:
  pollIntervalSeconds: 1
http:
  port: 0
log:
  level: ${options.logLevel}
`,
  );
  const config = loadConfig({ file: configFile, env: { DATABASE_URL: server.url }, cwd: dir });
  const db = openRegistry(server.url, { connectTimeoutSeconds: 10 });
  await migrateToLatest(db); // before the feeder polls (the daemon would do it too)
  const daemonStop = new AbortController();
  const stopDaemon = (): void => daemonStop.abort(new Error('demo finished'));
  signal.addEventListener('abort', stopDaemon, { once: true });
  let daemon: Promise<void> | undefined;
  try {
    const trips = (day: number) => taxiTrips({ day, rows: options.rowsPerDay, shiftDay: options.shiftDay, seed: 7 });
    for (let day = 0; day < BACKFILL; day++) writeTaxiPartition(config.dataDir, dateOf(day), trips(day));
    out(`\nday 0–${BACKFILL - 1}: ${BACKFILL} partitions of ${options.rowsPerDay} trips written; starting the daemon (watcher, scheduler, worker)`);
    daemon = runDaemon({ config, log, signal: daemonStop.signal });
    const seen = new Set<string>();
    await waitForDecision(db, config, dateOf(BACKFILL - 1), signal);
    const lineage = (await findLineageByName(db, config.lineage))!;
    out(`    first model: steps_per_epoch fixed at ${lineage.steps_per_epoch} (virtual epochs: a retrain costs the same however much data arrives); the gate asks for 5% better on the newest partition, which the candidate did not train on (a forward test: a shift is promoted the day after it is learned)`);
    await tellLatest(db, config.lineage, seen, out);
    for (let day = BACKFILL; day < BACKFILL + options.days; day++) {
      const date = dateOf(day);
      writeTaxiPartition(config.dataDir, date, trips(day));
      out(`\nday ${day} (${date})${day === options.shiftDay ? ' — the new tariff starts today' : ''}: partition written`);
      await waitForDecision(db, config, date, signal);
      await tellLatest(db, config.lineage, seen, out);
    }
    stopDaemon();
    await daemon;
    daemon = undefined;
    out(`\n${await summary(db, config.lineage)}`);
    out(`\ndone in ${humanSeconds((performance.now() - started) / 1000)}. The registry and the artifacts stay in ${dir}; look around with\n  cd ${shellWord(path.relative(process.cwd(), dir) || '.')} && ${freshetCommandFrom(dir)} status    (also: models, plateau, runs, jobs, partitions; the serving export is in serving/${DEMO_LINEAGE}/current)`);
  } finally {
    signal.removeEventListener('abort', stopDaemon);
    stopDaemon();
    await daemon?.catch(() => {});
    await db.destroy();
    await server.stop();
  }
}

async function summary(db: Registry, lineageName: string): Promise<string> {
  const lineage = (await findLineageByName(db, lineageName))!;
  const versions = await listModelVersions(db, lineage.id);
  const champion = await getChampion(db, lineage.id);
  const decisions = (await listPromotions(db, lineage.id, 100)).reverse();
  const runs = new Map((await listRuns(db, { lineageId: lineage.id, limit: 1_000_000 })).map((r) => [r.id, r]));
  const newest = champion ? await newestTrainingDataArrival(db, champion.id) : null;
  const counts = { promoted: 0, rejected: 0 };
  for (const d of decisions) if (d.decision === 'promoted' || d.decision === 'rejected') counts[d.decision] += 1;
  return [
    'summary',
    formatTable(
      ['version', '', 'metric', 'value', 'run', 'base'],
      versions.map((v) => {
        const selection = runs.get(v.run_id)?.base_selection as { chosen?: { name: string; virtualEpoch: number } | null } | null;
        return [`v${v.version}`, v.id === champion?.id ? 'champion' : '', v.metric_name, v.eval_metric.toPrecision(4), v.run_id, selection?.chosen ? `${selection.chosen.name} (epoch ${selection.chosen.virtualEpoch})` : 'scratch'];
      }),
    ),
    '',
    formatTable(
      ['run', 'kind', 'decision', 'candidate', 'champion', 'eval rows'],
      decisions.map((d) => [d.run_id, runs.get(d.run_id ?? '')?.kind, d.decision, d.candidate_metric?.toPrecision(4), d.champion_metric?.toPrecision(4), d.eval_rows]),
    ),
    '',
    `decisions: ${counts.promoted} promoted, ${counts.rejected} rejected; champion v${champion?.version ?? '-'}; its newest data arrived ${newest ? humanSeconds((Date.now() - newest.getTime()) / 1000) : '-'} ago`,
  ].join('\n');
}
