// The composition root: opens the registry (embedded or given), migrates it, starts the
// modules and wires their events (metrics hang off the modules' observers and events;
// modules never import this file or prom-client). Each start registers its release at
// once; on SIGTERM/SIGINT, or when a later step of startup fails, everything started is
// released in reverse order, so a daemon that cannot start leaves nothing running.
//
// Startup order: registry → migrations → HTTP (the port is bound before any work is
// claimed, so a taken port fails fast) → listener → serving reconcile → watcher →
// scheduler → workers.
//
// Roles: `all` (freshet daemon) runs the watcher, the retrain scheduler and a worker;
// `worker` (freshet worker) only claims and runs jobs, to scale training out.
import { once } from 'node:events';
import crypto from 'node:crypto';
import os from 'node:os';
import type { ResolvedConfig } from './core/config.ts';
import type { Logger } from './core/log.ts';
import { Releasers } from './core/releasers.ts';
import { retryTransient } from './core/retry.ts';
import { countRegistration, createMetrics, recordDecision, recordPrediction, renderStatusPage, startHttpServer, statusReport, trainingMetrics } from './observability/index.ts';
import { JobWorker, NotificationListener, countJobsByState } from './queue/index.ts';
import { checkReachable, findChampion, findLineageByName, lastFinishedRunInvalidRows, waitingSummary, type Registry, CHANNELS, isTransientDatabaseError, migrateToLatest, newestTrainingDataArrival, openConfiguredRegistry } from './registry/index.ts';
import { retrainJobHandler } from './retrain/index.ts';
import { RetrainScheduler } from './scheduler/index.ts';
import { ChampionPredictor, predictEndpoint, reconcileServing } from './serving/index.ts';
import { PartitionWatcher } from './watcher/index.ts';
import { assertLineageDefinition } from './trainer/index.ts';

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

/**
 * Runs until `signal` aborts, then shuts down gracefully. Resolves when everything is
 * closed; rejects (after releasing whatever had started) when startup fails.
 */
export async function runDaemon({ config, log, signal, role = 'all' }: DaemonOptions): Promise<void> {
  const processId = newProcessId();
  log = log.child({ process: processId });
  log.info({ config: config.source, dataDir: config.dataDir, role }, `freshet ${role === 'all' ? 'daemon' : 'worker'} starting`);
  const releasers = new Releasers();
  try {
    // HTTP first, so that /healthz, /readyz and /metrics answer while the registry is still
    // out of reach: /readyz says why the daemon waits, freshet_registry_up is 0.
    const startup: { db: Registry | undefined; url: string | undefined; predict: { predictor: ChampionPredictor; endpoint: (body: Buffer) => Promise<{ status: number; type: string; body: string }> } | undefined; waiting: string } = { db: undefined, url: undefined, predict: undefined, waiting: 'opening the registry' };
    const registryReachable = async (): Promise<boolean> => {
      if (!startup.db) return false;
      const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 1500, false).unref());
      return Promise.race([checkReachable(startup.db, startup.url!).then(() => true), timeout]);
    };
    const champion = async () => {
      if (!startup.db) return undefined;
      const found = await findChampion(startup.db, config.lineage);
      return found ? { version: found.version.version, newestDataArrivedAt: await newestTrainingDataArrival(startup.db, found.version.id) } : undefined;
    };
    const notYet = (): Promise<never> => Promise.reject(new Error(startup.waiting));
    const metrics = createMetrics({
      jobCounts: () => (startup.db ? countJobsByState(startup.db) : notYet()),
      registryReachable,
      champion,
      waiting: async () => {
        if (!startup.db) return notYet();
        const { count, oldestFileAt } = await waitingSummary(startup.db);
        return { count, oldestSeconds: oldestFileAt ? (Date.now() - oldestFileAt.getTime()) / 1000 : null };
      },
      lastRunInvalidRows: async () => (startup.db ? lastFinishedRunInvalidRows(startup.db, config.lineage) : notYet()),
    });
    // The modules, built once the registry answers (readiness asks them).
    const workers: JobWorker[] = [];
    let watcher: PartitionWatcher | undefined;
    if (config.http.enabled) {
      releasers.add('predictor', () => startup.predict?.predictor.close());
      const withRegistry = (render: (db: Registry) => Promise<string>, type: string) => async () =>
        startup.db ? { type, body: await render(startup.db) } : { status: 503, type: 'text/plain; charset=utf-8', body: `freshet is starting: ${startup.waiting}\n` };
      const http = await startHttpServer({
        maxBodyBytes: config.http.maxBodyBytes,
        postRoutes: {
          '/v1/predict': async (body) => {
            if (startup.predict) return startup.predict.endpoint(body);
            recordPrediction(metrics, { status: 503, version: null, rows: 0, seconds: 0, unseen: {} });
            return { status: 503, type: 'application/json', body: `${JSON.stringify({ error: `freshet is starting: ${startup.waiting}` })}\n` };
          },
        },
        onPostRefused: (_path, status) => recordPrediction(metrics, { status, version: null, rows: 0, seconds: 0, unseen: {} }),
        host: config.http.host,
        port: config.http.port,
        metrics,
        log,
        readiness: [
          { name: 'registry', check: registryReachable, waiting: () => (startup.db ? 'the registry does not answer' : startup.waiting) },
          ...(role === 'all' ? [{ name: 'watcher', check: () => watcher?.ready ?? false, waiting: () => 'the watcher has not finished its startup scan' }] : []),
          ...(config.queue.concurrency > 0 ? [{ name: 'workers', check: () => workers.length > 0 && workers.every((w) => w.running), waiting: () => 'the job workers are not running yet' }] : []),
        ],
        routes: {
          '/': withRegistry(async (db) => renderStatusPage(await statusReport(db, config), { refreshSeconds: config.http.refreshSeconds }), 'text/html; charset=utf-8'),
          '/status.json': withRegistry(async (db) => JSON.stringify(await statusReport(db, config)), 'application/json'),
        },
      });
      releasers.add('http', () => http.close());
    }

    const registry = await openConfiguredRegistry({
      config,
      log,
      wait: 'patient',
      signal,
      onRetry: ({ attempt, retryInSeconds, error }) => (startup.waiting = `the registry is unreachable (${error.message}); attempt ${attempt}, the next in ${retryInSeconds} s`),
    });
    releasers.add('registry', () => registry.close());
    const { db } = registry;
    startup.waiting = 'migrating the registry';
    const { applied, version } = await retryTransient(() => migrateToLatest(db), {
      signal,
      log,
      what: 'migrating the registry',
      maxBackoffSeconds: config.database.maxBackoffSeconds,
      isTransient: isTransientDatabaseError,
      onRetry: ({ error }) => (startup.waiting = `migrating the registry failed (${error.message}); retrying`),
    });
    log.info({ schemaVersion: version, applied }, 'registry ready');
    // A configuration that no longer matches the lineage it names fails here, at start, naming each key,
    // rather than in every job.
    const lineage = await retryTransient(() => findLineageByName(db, config.lineage), { signal, log, what: 'reading the lineage', maxBackoffSeconds: config.database.maxBackoffSeconds, isTransient: isTransientDatabaseError });
    if (lineage) assertLineageDefinition(lineage, config);
    startup.url = registry.url;
    startup.db = db;
    if (config.http.enabled) {
      const predictor = new ChampionPredictor(db, config, log.child({ module: 'predict' }));
      startup.predict = { predictor, endpoint: predictEndpoint(predictor, (outcome) => recordPrediction(metrics, outcome)) };
    }

    watcher = role === 'all' ? new PartitionWatcher({ db, config, log }) : undefined;
    const scheduler = role === 'all' ? new RetrainScheduler({ db, config, log, processId, onEnqueued: () => workers.forEach((w) => w.wake()) }) : undefined;

    const listener = new NotificationListener({
      url: registry.url,
      channels: [CHANNELS.jobs, CHANNELS.partitions],
      log: log.child({ module: 'listener' }),
      maxBackoffSeconds: config.database.maxBackoffSeconds,
      connectTimeoutSeconds: config.database.connectTimeoutSeconds,
      queryTimeoutSeconds: config.database.queryTimeoutSeconds,
    });
    listener.start();
    releasers.add('listener', () => listener.stop());

    if (role === 'all') {
      // A crash between a promotion and its export leaves servingDir behind the registry.
      await reconcileServing(db, config, log).catch((error: Error) => log.error({ err: error }, 'could not bring servingDir up to date with the champion; the next decision retries'));
    }
    const handler = retrainJobHandler({ db, config, log, observer: trainingMetrics(metrics), onDecision: (decision) => recordDecision(metrics, decision) });
    for (let i = 0; i < config.queue.concurrency; i++) {
      const worker = new JobWorker({
        db,
        workerId: config.queue.concurrency > 1 ? `${processId}#${i}` : processId,
        lineage: config.lineage,
        handlers: { retrain: handler },
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

    if (watcher) {
      watcher.on('outcome', (outcome, arrivedAt) => {
        countRegistration(metrics, outcome, arrivedAt);
        if (outcome.kind === 'registered') scheduler?.dataArrived();
      });
      releasers.add('watcher', () => watcher.stop()); // before start: a start that fails half-way still stops its worker thread
      await watcher.start();
    }
    if (scheduler) {
      scheduler.start();
      releasers.add('scheduler', () => scheduler.stop());
      scheduler.dataArrived(); // partitions that arrived while no daemon ran
    }
    for (const worker of workers) worker.start();
    // Released first: a running job stops at its next step and checkpoints.
    releasers.add('workers', () => Promise.all(workers.map((w) => w.stop())).then(() => {}));

    log.info({ role, workers: workers.length }, 'freshet running');
    if (!signal.aborted) await once(signal, 'abort');
    log.info('shutting down: no new jobs; the running job stops at its next step and checkpoints');
  } finally {
    await releasers.releaseAll(log);
    log.info('freshet stopped');
  }
}
