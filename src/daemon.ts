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
// Lineages: the daemon runs every lineage of its configuration (or those queue.lineages
// names): a watcher and a retrain scheduler each, one pool of workers that claims any of
// their jobs (oldest first across lineages, at most one retrain per lineage at a time:
// the queue's concurrency key), and one model server for every lineage's predictions.
//
// Roles: `all` (freshet daemon) runs the watchers, the retrain schedulers and the workers;
// `worker` (freshet worker) only claims and runs jobs, to scale training out.
import { once } from 'node:events';
import crypto from 'node:crypto';
import os from 'node:os';
import type { ResolvedConfig } from './core/config.ts';
import type { Logger } from './core/log.ts';
import { daemonLineages } from './core/lineage-configs.ts';
import { configureDoorsFor } from './data/index.ts';
import { Releasers } from './core/releasers.ts';
import { retryTransient } from './core/retry.ts';
import { countRegistration, recordDecision, trainingMetrics, type Metrics } from './observability/index.ts';
import { JobWorker, NotificationListener, workerTiming, type JobHandler } from './queue/index.ts';
import { findLineageByName, type Registry, CHANNELS, registryRetryPolicy, migrateToLatest, openConfiguredRegistry, type RegistryHandle } from './registry/index.ts';
import { retrainJobHandler } from './retrain/index.ts';
import { RetrainScheduler } from './scheduler/index.ts';
import { ModelServer, reconcileServing } from './serving/index.ts';
import { WebhookNotifier } from './notify/index.ts';
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

/**
 * The bound on releasing what holds nothing a user could lose (threads, sockets, timers;
 * a watcher's registrations are transactions and the registry is closed after it): past
 * it, shutdown goes on without it and says so. The workers (the running job checkpoints)
 * and the registry (an embedded server must be stopped) have no bound but the signal's.
 */
const HOLDS_NOTHING = { timeoutMs: 10_000 };

/** Identifies this process in job leases and cron slots: host, pid and a random suffix. */
function newProcessId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * Opens the registry (patiently: the daemon waits out an outage at start), migrates it and
 * checks that the configuration still matches each lineage it names — at start, naming each
 * key, rather than in every job. `startup.waiting` says which step it waits on.
 */
async function openMigratedRegistry({ config, lineages, log, signal, startup, releasers }: { config: ResolvedConfig; lineages: readonly ResolvedConfig[]; log: Logger; signal: AbortSignal; startup: DaemonStartup; releasers: Releasers }): Promise<RegistryHandle> {
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
  for (const lineageConfig of lineages) {
    const lineage = await retryTransient(() => findLineageByName(db, lineageConfig.lineage), { ...retry, what: 'reading the lineage' });
    if (lineage) assertLineageDefinition(lineage, lineageConfig);
  }
  return registry;
}

/** One retrain handler per lineage, picked by the job's lineage. */
function retrainHandlers({ db, lineages, log, metrics }: { db: Registry; lineages: readonly ResolvedConfig[]; log: Logger; metrics: Metrics }): JobHandler {
  const byLineage = new Map(lineages.map((config) => [config.lineage, retrainJobHandler({ db, config, log, observer: trainingMetrics(metrics, config.lineage), onDecision: (decision) => recordDecision(metrics, config.lineage, decision) })]));
  return (job, context) => {
    const lineage = String(job.payload.lineage);
    const handler = byLineage.get(lineage);
    // The claim filter keeps other lineages' jobs away; this is the guard if it did not.
    if (!handler) throw new Error(`job ${job.id} retrains lineage ${JSON.stringify(lineage)}, which this daemon does not run (${[...byLineage.keys()].join(', ')})`);
    return handler(job, context);
  };
}

/** `queue.concurrency` workers claiming any of the daemon's lineages' jobs; a settled job may leave data to train on. */
function createWorkers({ db, config, lineages, log, processId, metrics, schedulers }: { db: Registry; config: ResolvedConfig; lineages: readonly ResolvedConfig[]; log: Logger; processId: string; metrics: Metrics; schedulers: ReadonlyMap<string, RetrainScheduler> }): JobWorker[] {
  const handler = retrainHandlers({ db, lineages, log, metrics });
  const workers: JobWorker[] = [];
  for (let i = 0; i < config.queue.concurrency; i++) {
    const worker = new JobWorker({
      db,
      workerId: config.queue.concurrency > 1 ? `${processId}#${i}` : processId,
      lineages: lineages.map((l) => l.lineage),
      runningElsewhere: () => workers.filter((w) => w !== worker && w.currentJobId !== undefined).map((w) => w.currentJobId!),
      handlers: { retrain: handler },
      log: log.child({ module: 'worker' }),
      ...workerTiming(config),
    });
    worker.on('settled', (job, outcome, seconds) => {
      metrics.jobDurationSeconds.observe({ lineage: String(job.payload.lineage), kind: job.kind }, seconds);
      if (outcome === 'succeeded') schedulers.get(String(job.payload.lineage))?.dataArrived(); // data that arrived during the run
    });
    workers.push(worker);
  }
  return workers;
}

/** The source (data location) a partition notification is about (its JSON payload), if it names one. */
function sourceOfNotification(payload: string): string | undefined {
  try {
    const source = (JSON.parse(payload) as { source?: unknown }).source;
    return typeof source === 'string' ? source : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The LISTEN connection: a job hint wakes the workers, a partition hint the schedulers of
 * the lineages that read its source, a champion hint the model server's cache.
 */
function startListener({ url, config, lineages, log, workers, schedulers, models }: { url: string; config: ResolvedConfig; lineages: readonly ResolvedConfig[]; log: Logger; workers: JobWorker[]; schedulers: ReadonlyMap<string, RetrainScheduler>; models: ModelServer | undefined }): NotificationListener {
  const listener = new NotificationListener({
    url,
    channels: [CHANNELS.jobs, CHANNELS.partitions, CHANNELS.champions],
    log: log.child({ module: 'listener' }),
    maxBackoffSeconds: config.database.maxBackoffSeconds,
    connectTimeoutSeconds: config.database.connectTimeoutSeconds,
    queryTimeoutSeconds: config.database.queryTimeoutSeconds,
  });
  listener.on('notification', (channel, payload) => {
    if (channel === CHANNELS.jobs) workers.forEach((w) => w.wake());
    else if (channel === CHANNELS.champions) {
      models?.championChanged(payload);
      schedulers.get(payload)?.dataArrived(); // a new champion has another training window: drift is recomputed
    }
    else {
      const source = sourceOfNotification(payload);
      for (const lineage of lineages) if (source === undefined || lineage.dataDir === source) schedulers.get(lineage.lineage)?.dataArrived();
    }
  });
  // After a reconnect we may have missed hints: look once.
  listener.on('connected', () => {
    workers.forEach((w) => w.wake());
    schedulers.forEach((s) => s.dataArrived());
    models?.championChanged();
  });
  listener.start();
  return listener;
}

/**
 * One watcher per data folder (lineages that share a folder share its partitions, and
 * their columns are the same: lineageConfigs checks), started; each released before its
 * start, so a start that fails half-way still stops its worker thread.
 */
async function startWatchers({ db, lineages, log, metrics, schedulers, releasers }: { db: Registry; lineages: readonly ResolvedConfig[]; log: Logger; metrics: Metrics; schedulers: ReadonlyMap<string, RetrainScheduler>; releasers: Releasers }): Promise<PartitionWatcher[]> {
  const bySource = new Map<string, ResolvedConfig[]>();
  for (const config of lineages) bySource.set(config.dataDir, [...(bySource.get(config.dataDir) ?? []), config]);
  const watchers: PartitionWatcher[] = [];
  for (const [source, readers] of bySource) {
    const watcher = new PartitionWatcher({ db, config: readers[0]!, readers, log: log.child({ source, lineages: readers.map((r) => r.lineage) }) });
    watcher.on('outcome', (outcome, arrivedAt) => {
      countRegistration(metrics, readers.map((r) => r.lineage), outcome, arrivedAt);
      if (outcome.kind === 'registered') for (const reader of readers) schedulers.get(reader.lineage)?.dataArrived();
    });
    releasers.add(`watcher ${source}`, () => watcher.stop(), HOLDS_NOTHING);
    watchers.push(watcher);
  }
  for (const watcher of watchers) await watcher.start();
  return watchers;
}

/**
 * Runs until `signal` aborts, then shuts down gracefully. Resolves when everything is
 * closed; rejects (after releasing whatever had started) when startup fails.
 */
export async function runDaemon({ config, log, signal, role = 'all' }: DaemonOptions): Promise<void> {
  const processId = newProcessId();
  log = log.child({ process: processId });
  const lineages = daemonLineages(config);
  configureDoorsFor([...lineages.map((l) => l.dataDir), config.artifactsUri ?? ''], config.s3);
  log.info({ config: config.source, lineages: lineages.map((l) => l.lineage), role }, `freshet ${role === 'all' ? 'daemon' : 'worker'} starting`);
  const releasers = new Releasers();
  try {
    const startup = newStartup();
    const metrics = daemonMetrics(startup, lineages);
    if (config.http.enabled) {
      releasers.add('models', () => startup.models?.close(), HOLDS_NOTHING);
      const http = await startDaemonHttp({ config, lineages, log, role, startup, metrics });
      releasers.add('http', () => http.close(), HOLDS_NOTHING);
    }

    const registry = await openMigratedRegistry({ config, lineages, log, signal, startup, releasers });
    const { db } = registry;
    startup.url = registry.url;
    startup.db = db;
    const models = config.http.enabled ? new ModelServer({ db, lineages, log: log.child({ module: 'predict' }), maxLoadedModels: config.serving.maxLoadedModels }) : undefined;
    startup.models = models;

    const schedulers = new Map(role === 'all' ? lineages.map((l) => [l.lineage, new RetrainScheduler({ db, config: l, log, processId, onEnqueued: () => startup.workers.forEach((w) => w.wake()) })] as const) : []);
    const workers = createWorkers({ db, config, lineages, log, processId, metrics, schedulers });
    startup.workers = workers;
    const listener = startListener({ url: registry.url, config, lineages, log, workers, schedulers, models });
    releasers.add('listener', () => listener.stop(), HOLDS_NOTHING);

    if (role === 'all') {
      for (const lineage of lineages) {
        // A crash between a promotion and its export leaves servingDir behind the registry.
        await reconcileServing(db, lineage, log).catch((error: Error) => log.error({ err: error, lineage: lineage.lineage }, 'could not bring servingDir up to date with the champion; the next decision retries'));
      }
      startup.watchers = await startWatchers({ db, lineages, log, metrics, schedulers, releasers });
    }
    for (const scheduler of schedulers.values()) {
      scheduler.start();
      releasers.add('scheduler', () => scheduler.stop(), HOLDS_NOTHING);
      scheduler.dataArrived(); // partitions that arrived while no daemon ran
    }
    if (config.notify.webhooks.length > 0) {
      const notifier = new WebhookNotifier({ db, config, log });
      await notifier.start();
      releasers.add('webhooks', () => notifier.stop(), HOLDS_NOTHING);
      for (const worker of workers) worker.on('settled', () => notifier.wake()); // a decision or a job failed for good: tell them now, not at the next poll
    }
    for (const worker of workers) worker.start();
    // Released first: a running job stops at its next step and checkpoints.
    releasers.add('workers', () => Promise.all(workers.map((w) => w.stop())).then(() => {}));

    log.info({ role, lineages: lineages.length, workers: workers.length }, 'freshet running');
    if (!signal.aborted) await once(signal, 'abort');
    log.info('shutting down: no new jobs; the running job stops at its next step and checkpoints');
  } finally {
    await releasers.releaseAll(log);
    log.info('freshet stopped');
  }
}
