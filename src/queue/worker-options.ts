// A worker's timing compiled from the configuration in one place (the daemon, the backtest
// and the tests build workers): lease, heartbeat, polling, and the two backoffs — the
// registry's (a connection lost) and the job's (an attempt failed).
import type { ResolvedConfig } from '../core/config.ts';
import type { JobWorkerOptions } from './job-worker.ts';

export type WorkerTiming = Pick<JobWorkerOptions, 'leaseSeconds' | 'heartbeatSeconds' | 'pollIntervalSeconds' | 'maxBackoffSeconds' | 'backoff'>;

export function workerTiming(config: Pick<ResolvedConfig, 'queue' | 'database'>): WorkerTiming {
  return {
    leaseSeconds: config.queue.leaseSeconds,
    heartbeatSeconds: config.queue.heartbeatSeconds,
    pollIntervalSeconds: config.queue.pollIntervalSeconds,
    maxBackoffSeconds: config.database.maxBackoffSeconds,
    backoff: { backoffSeconds: config.queue.backoffSeconds, maxBackoffSeconds: config.queue.maxBackoffSeconds },
  };
}
