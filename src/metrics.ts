// Prometheus metrics (prom-client), prefix `freshet_`. Names are a contract with the
// dashboards (DESIGN.md); help texts give the unit. One registry per process, created by
// the composition root and passed to modules; modules never create metrics themselves.
import client from 'prom-client';

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    partitionsTotal: new client.Counter({
      name: 'freshet_partitions_total',
      help: 'Partitions seen by the watcher, by outcome (registered, rejected, superseded, duplicate). Unit: partitions.',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    partitionDetectSeconds: new client.Histogram({
      name: 'freshet_partition_detect_seconds',
      help: 'Time from a partition becoming complete (marker mtime) to its registry row committing. Unit: seconds.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
