// The composition root: opens the registry (embedded or given), migrates it, starts the
// modules and stops them in reverse order when the signal aborts. Modules receive the
// AbortSignal; they never import this file.
//
// Roles: `all` (freshet daemon) runs the watcher, the retrain scheduler and a worker;
// `worker` (freshet worker) only claims and runs jobs, to scale training out.
import { once } from 'node:events';
import crypto from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import type { ResolvedConfig } from './config.ts';
import { startHttpServer, type ReadinessCheck, type RunningHttpServer } from './http-server.ts';
import type { Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { CHAMPION, findLineageByName, getAliasedVersion, isTransientDatabaseError, migrateToLatest, newestTrainingDataArrival, openConfiguredRegistry } from './registry/index.ts';
import { retryTransient } from './retry.ts';
import { CHANNELS, JobWorker, NotificationListener, RetrainScheduler, countJobsByState, reconcileServing, retrainJobHandler } from './scheduler/index.ts';
import { renderStatusPage } from './status-page.ts';
import { statusReport } from './status-report.ts';
import { PartitionWatcher } from './watcher/index.ts';

export type DaemonRole = 'all' | 'worker';

export interface DaemonOptions {
  config: ResolvedConfig;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: every module stops taking work and winds down. */
  signal: AbortSignal;
  role?: DaemonRole;
}

/** Identifies this process in job leases and cron slots: host, pid and a random suffix. */
function newProcessId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
}

/** Runs until `signal` aborts, then shuts down gracefully. Resolves when everything is closed. */
export async function runDaemon({ config, log, signal, role = 'all' }: DaemonOptions): Promise<void> {
  const processId = newProcessId();
  log = log.child({ process: processId });
  log.info({ config: config.source, dataDir: config.dataDir, role }, `freshet ${role === 'all' ? 'daemon' : 'worker'} starting`);
  const registry = await openConfiguredRegistry({ config, log, wait: 'patient', signal });
  const { db } = registry;
  const stops: Array<[string, () => Promise<void>]> = [];
  try {
    const { applied, version } = await retryTransient(() => migrateToLatest(db), {
      signal,
      log,
      what: 'migrating the registry',
      maxBackoffSeconds: config.database.maxBackoffSeconds,
      isTransient: isTransientDatabaseError,
    });
    log.info({ schemaVersion: version, applied }, 'registry ready');
    const registryReachable = async (): Promise<boolean> => {
      const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 1500, false).unref());
      return Promise.race([sql`select 1`.execute(db).then(() => true), timeout]);
    };
    const champion = async () => {
      const lineage = await findLineageByName(db, config.lineage);
      const version = lineage ? await getAliasedVersion(db, lineage.id, CHAMPION) : undefined;
      return version ? { version: version.version, newestDataArrivedAt: await newestTrainingDataArrival(db, version.id) } : undefined;
    };
    const metrics = createMetrics({ jobCounts: () => countJobsByState(db), registryReachable, champion });

    const listener = new NotificationListener({
      url: registry.url,
      channels: [CHANNELS.jobs, CHANNELS.partitions],
      log: log.child({ module: 'listener' }),
      maxBackoffSeconds: config.database.maxBackoffSeconds,
      connectTimeoutSeconds: config.database.connectTimeoutSeconds,
      queryTimeoutSeconds: config.database.queryTimeoutSeconds,
    });
    listener.start();
    stops.push(['listener', () => listener.stop()]);

    const workers: JobWorker[] = [];
    const scheduler = role === 'all' ? new RetrainScheduler({ db, config, log, processId, onEnqueued: () => workers.forEach((w) => w.wake()) }) : undefined;
    const handler = retrainJobHandler({ db, config, log, metrics });
    if (role === 'all') {
      // A crash between a promotion and its export leaves servingDir behind the registry.
      await reconcileServing(db, config, log).catch((error: Error) => log.error({ err: error }, 'could not bring servingDir up to date with the champion; the next decision retries'));
    }
    for (let i = 0; i < config.queue.concurrency; i++) {
      const worker = new JobWorker({
        db,
        workerId: config.queue.concurrency > 1 ? `${processId}#${i}` : processId,
        lineage: config.lineage,
        handlers: { retrain: handler, train: handler },
        log: log.child({ module: 'worker' }),
        leaseSeconds: config.queue.leaseSeconds,
        heartbeatSeconds: config.queue.heartbeatSeconds,
        pollIntervalSeconds: config.queue.pollIntervalSeconds,
        maxBackoffSeconds: config.database.maxBackoffSeconds,
        backoff: { backoffSeconds: config.queue.backoffSeconds, maxBackoffSeconds: config.queue.maxBackoffSeconds },
      });
      worker.on('settled', (job, outcome, seconds) => {
        metrics.jobDurationSeconds.observe({ kind: job.kind }, seconds);
        if (outcome === 'succeeded') scheduler?.dataArrived(); // data that arrived during the run
      });
      workers.push(worker);
    }
    listener.on('notification', (channel) => {
      if (channel === CHANNELS.jobs) workers.forEach((w) => w.wake());
      else scheduler?.dataArrived();
    });
    // After a reconnect we may have missed hints: look once.
    listener.on('connected', () => {
      workers.forEach((w) => w.wake());
      scheduler?.dataArrived();
    });

    let watcher: PartitionWatcher | undefined;
    if (role === 'all') {
      watcher = new PartitionWatcher({ db, config, log, metrics });
      watcher.on('outcome', (outcome) => outcome.kind === 'registered' && scheduler?.dataArrived());
      await watcher.start();
      stops.push(['watcher', () => watcher!.stop()]);
    }
    if (scheduler) {
      scheduler.start();
      scheduler.dataArrived(); // partitions that arrived while no daemon ran
      stops.push(['scheduler', () => scheduler.stop()]);
    }
    for (const worker of workers) worker.start();
    // Workers stop first (they wait for a checkpoint), so they go last in `stops`.
    stops.push(['workers', () => Promise.all(workers.map((w) => w.stop())).then(() => {})]);

    let http: RunningHttpServer | undefined;
    if (config.http.enabled) {
      const readiness: ReadinessCheck[] = [
        { name: 'registry', check: registryReachable },
        ...(watcher ? [{ name: 'watcher', check: () => watcher!.ready }] : []),
        ...(workers.length ? [{ name: 'workers', check: () => workers.every((w) => w.running) }] : []),
      ];
      const routes = {
        '/': async () => ({ type: 'text/html; charset=utf-8', body: renderStatusPage(await statusReport(db, config)) }),
        '/status.json': async () => ({ type: 'application/json', body: JSON.stringify(await statusReport(db, config)) }),
      };
      http = await startHttpServer({ host: config.http.host, port: config.http.port, metrics, readiness, log, routes });
    }

    log.info({ role, workers: workers.length }, 'freshet running');
    if (!signal.aborted) await once(signal, 'abort');
    log.info('shutting down: no new jobs; the running job stops at its next step and checkpoints');
    for (const [name, stop] of stops.reverse()) {
      await stop().catch((error: Error) => log.error({ err: error, module: name }, 'error while stopping'));
      log.debug({ module: name }, 'stopped');
    }
    await http?.close();
  } finally {
    await registry.close();
    log.info('freshet stopped');
  }
}
