// The composition root: opens the registry (embedded or given), migrates it, starts the
// modules and stops them in reverse order when the signal aborts. Modules receive the
// AbortSignal; they never import this file.
import { once } from 'node:events';
import type { ResolvedConfig } from './config.ts';
import type { Logger } from './log.ts';
import { isTransientDatabaseError, migrateToLatest, openConfiguredRegistry } from './registry/index.ts';
import { createMetrics } from './metrics.ts';
import { retryTransient } from './retry.ts';
import { PartitionWatcher } from './watcher/index.ts';

export interface DaemonOptions {
  config: ResolvedConfig;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: every module stops taking work and winds down. */
  signal: AbortSignal;
}

/** Runs until `signal` aborts, then shuts down gracefully. Resolves when everything is closed. */
export async function runDaemon({ config, log, signal }: DaemonOptions): Promise<void> {
  log.info({ config: config.source, dataDir: config.dataDir }, 'freshet daemon starting');
  const registry = await openConfiguredRegistry({ config, log, wait: 'patient', signal });
  try {
    const { applied, version } = await retryTransient(() => migrateToLatest(registry.db), {
      signal,
      log,
      what: 'migrating the registry',
      maxBackoffSeconds: config.database.maxBackoffSeconds,
      isTransient: isTransientDatabaseError,
    });
    log.info({ schemaVersion: version, applied }, 'registry ready');
    const metrics = createMetrics();
    const watcher = new PartitionWatcher({ db: registry.db, config, log, metrics });
    await watcher.start();
    if (!signal.aborted) await once(signal, 'abort');
    log.info('shutting down');
    await watcher.stop();
  } finally {
    await registry.close();
    log.info('freshet daemon stopped');
  }
}
