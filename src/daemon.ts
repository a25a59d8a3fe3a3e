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
import { countRegistration, recordDecision, recordPrediction, trainingMetrics, type Metrics } from './observability/index.ts';
import { JobWorker, NotificationListener, workerTiming } from './queue/index.ts';
import { findLineageByName, type Registry, CHANNELS, registryRetryPolicy, migrateToLatest, openConfiguredRegistry, type RegistryHandle } from './registry/index.ts';
import { retrainJobHandler } from './retrain/index.ts';
import { RetrainScheduler } from './scheduler/index.ts';
import { ChampionPredictor, predictEndpoint, reconcileServing } from './serving/index.ts';
import { PartitionWatcher } from './watcher/index.ts';
import { assertLineageDefinition } from './trainer/index.ts';
import { daemonMetrics, newStartup, startDaemonHttp, type DaemonStartup } from './daemon-http.ts';

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
 * Opens the registry (patiently: the daemon waits out an outage at start), migrates it and
 * checks that the configuration still matches the lineage it names — at start, naming each
 * key, rather than in every job. `startup.waiting` says which step it waits on.
 */
async function openMigratedRegistry({ config, log, signal, startup, releasers }: { config: ResolvedConfig; log: Logger; signal: AbortSignal; startup: DaemonStartup; releasers: Releasers }): Promise<RegistryHandle> {
  const registry = await openConfiguredRegistry({
    config,
    log,
    wait: 'patient',
    signal,
    onRetry: ({ attempt, retryInSeconds, error }) => (startup.waiting = `the registry is unreachable (${error.message}); attempt ${attempt}, the next in ${retryInSeconds} s`),
  });
  releasers.add('registry', () => registry.close());
  const { db } = registry;
  const retry = { signal, log, ...registryRetryPolicy(config.database) };
  startup.waiting = 'migrating the registry';
  const { applied, version } = await retryTransient(() => migrateToLatest(db), {
    ...retry,
    what: 'migrating the registry',
    onRetry: ({ error }) => (startup.waiting = `migrating the registry failed (${error.message}); retrying`),
  });
  log.info({ schemaVersion: version, applied }, 'registry ready');
  const lineage = await retryTransient(() => findLineageByName(db, config.lineage), { ...retry, what: 'reading the lineage' });
  if (lineage) assertLineageDefinition(lineage, config);
  return registry;
}

/** `queue.concurrency` workers sharing one retrain handler; a settled job may leave data to train on. */
function createWorkers({ db, config, log, processId, metrics, scheduler }: { db: Registry; config: ResolvedConfig; log: Logger; processId: string; metrics: Metrics; scheduler: RetrainScheduler | undefined }): JobWorker[] {
  const handler = retrainJobHandler({ db, config, log, observer: trainingMetrics(metrics), onDecision: (decision) => recordDecision(metrics, decision) });
  return Array.from({ length: config.queue.concurrency }, (_, i) => {
    const worker = new JobWorker({
      db,
      workerId: config.queue.concurrency > 1 ? `${processId}#${i}` : processId,
      lineage: config.lineage,
      handlers: { retrain: handler },
      log: log.child({ module: 'worker' }),
      ...workerTiming(config),
    });
    worker.on('settled', (job, outcome, seconds) => {
      metrics.jobDurationSeconds.observe({ kind: job.kind }, seconds);
      if (outcome === 'succeeded') scheduler?.dataArrived(); // data that arrived during the run
    });
    return worker;
  });
}

/** The LISTEN connection: a job hint wakes the workers, a partition hint the scheduler. */
function startListener({ url, config, log, workers, scheduler }: { url: string; config: ResolvedConfig; log: Logger; workers: JobWorker[]; scheduler: RetrainScheduler | undefined }): NotificationListener {
  const listener = new NotificationListener({
    url,
    channels: [CHANNELS.jobs, CHANNELS.partitions],
    log: log.child({ module: 'listener' }),
    maxBackoffSeconds: config.database.maxBackoffSeconds,
    connectTimeoutSeconds: config.database.connectTimeoutSeconds,
    queryTimeoutSeconds: config.database.queryTimeoutSeconds,
  });
  listener.on('notification', (channel) => {
    if (channel === CHANNELS.jobs) workers.forEach((w) => w.wake());
    else scheduler?.dataArrived();
  });
  // After a reconnect we may have missed hints: look once.
  listener.on('connected', () => {
    workers.forEach((w) => w.wake());
    scheduler?.dataArrived();
  });
  listener.start();
  return listener;
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
    const startup = newStartup();
    const metrics = daemonMetrics(startup, config);
    if (config.http.enabled) {
      releasers.add('predictor', () => startup.predict?.predictor.close());
      const http = await startDaemonHttp({ config, log, role, startup, metrics });
      releasers.add('http', () => http.close());
    }

    const registry = await openMigratedRegistry({ config, log, signal, startup, releasers });
    const { db } = registry;
    startup.url = registry.url;
    startup.db = db;
    if (config.http.enabled) {
      const predictor = new ChampionPredictor(db, config, log.child({ module: 'predict' }));
      startup.predict = { predictor, endpoint: predictEndpoint(predictor, (outcome) => recordPrediction(metrics, outcome)) };
    }

    const watcher = role === 'all' ? new PartitionWatcher({ db, config, log }) : undefined;
    const scheduler = role === 'all' ? new RetrainScheduler({ db, config, log, processId, onEnqueued: () => startup.workers.forEach((w) => w.wake()) }) : undefined;
    const workers = createWorkers({ db, config, log, processId, metrics, scheduler });
    startup.workers = workers;
    startup.watcher = watcher;
    const listener = startListener({ url: registry.url, config, log, workers, scheduler });
    releasers.add('listener', () => listener.stop());

    if (role === 'all') {
      // A crash between a promotion and its export leaves servingDir behind the registry.
      await reconcileServing(db, config, log).catch((error: Error) => log.error({ err: error }, 'could not bring servingDir up to date with the champion; the next decision retries'));
    }
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
