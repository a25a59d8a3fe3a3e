// Prometheus metrics (prom-client), prefix `freshet_`. Names are a contract with the
// dashboards (DESIGN.md); help texts give the unit. One registry per process, created by
// the composition root and passed to modules; modules never create metrics themselves.
import client from 'prom-client';

export interface MetricSources {
  /** Jobs per state, read from the registry at each scrape (the queue is shared by all daemons). */
  jobCounts?: () => Promise<Record<string, number>>;
  /** Probes the registry at each scrape (a `select 1` with a short timeout). */
  registryReachable?: () => Promise<boolean>;
  /** The champion's version number and the arrival time of the newest partition it was trained on. */
  champion?: () => Promise<{ version: number; newestDataArrivedAt: Date | null } | undefined>;
}

export function createMetrics(sources: MetricSources = {}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  let lastJobCounts: Record<string, number> = {};
  let championReading: ReturnType<NonNullable<MetricSources['champion']>> | undefined;
  // One registry read serves both champion gauges of a scrape.
  const readChampion = () => (championReading ??= (sources.champion?.() ?? Promise.resolve(undefined)).catch(() => undefined).finally(() => setTimeout(() => (championReading = undefined), 100)));
  return {
    registry,
    jobs: new client.Gauge({
      name: 'freshet_jobs',
      help: 'Jobs in the shared queue by state (queued, running, succeeded, failed, cancelled), read from the registry at scrape time. Unit: jobs.',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        if (!sources.jobCounts) return;
        // Registry down: report the last counts rather than failing the whole scrape.
        lastJobCounts = await sources.jobCounts().catch(() => lastJobCounts);
        for (const [state, n] of Object.entries(lastJobCounts)) this.set({ state }, n);
      },
    }),
    jobDurationSeconds: new client.Histogram({
      name: 'freshet_job_duration_seconds',
      help: 'Wall time of a job attempt in this process, from claim to settle, by job kind. Unit: seconds.',
      labelNames: ['kind'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
      registers: [registry],
    }),
    evalMetric: new client.Gauge({
      name: 'freshet_eval_metric',
      help: 'The gate\'s metric (eval.metric) at the last decision, on the fresh eval rows, for the candidate and the champion. Unit: that of the metric (loss, mse, mae, logloss or auc).',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    promotionsTotal: new client.Counter({
      name: 'freshet_promotions_total',
      help: 'Gate decisions made by this process, by decision (promoted, rejected). Unit: decisions.',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
    championVersion: new client.Gauge({
      name: 'freshet_champion_version',
      help: 'Version number of the lineage\'s champion (0: none yet), read from the registry at scrape time. Unit: version number.',
      registers: [registry],
      async collect() {
        if (sources.champion) this.set((await readChampion())?.version ?? 0);
      },
    }),
    dataFreshnessSeconds: new client.Gauge({
      name: 'freshet_data_freshness_seconds',
      help: 'Age of the newest data the champion was trained on: now minus the arrival of its newest partition. Unit: seconds.',
      registers: [registry],
      async collect() {
        const arrived = (await readChampion())?.newestDataArrivedAt;
        if (arrived) this.set((Date.now() - arrived.getTime()) / 1000);
      },
    }),
    trainStepsTotal: new client.Counter({
      name: 'freshet_train_steps_total',
      help: 'Optimizer steps taken by this process\'s training runs. Unit: steps.',
      registers: [registry],
    }),
    trainExamplesPerSecond: new client.Gauge({
      name: 'freshet_train_examples_per_second',
      help: 'Training throughput over the last logging interval (training.logEvery steps). Unit: examples per second.',
      registers: [registry],
    }),
    trainLoss: new client.Gauge({
      name: 'freshet_train_loss',
      help: 'Training loss of the running run: the batch loss at the last logged step. Unit: that of the training loss (mse, mae or logloss).',
      registers: [registry],
    }),
    valLoss: new client.Gauge({
      name: 'freshet_val_loss',
      help: 'Validation loss at the running run\'s last check (the training loss on the held-out rows). Unit: that of the training loss.',
      registers: [registry],
    }),
    virtualEpoch: new client.Gauge({
      name: 'freshet_virtual_epoch',
      help: 'Virtual epoch the running run has completed (continues across retrains from a base checkpoint). Unit: virtual epochs.',
      registers: [registry],
    }),
    checkpointWriteSeconds: new client.Histogram({
      name: 'freshet_checkpoint_write_seconds',
      help: 'Time to write one full-state checkpoint (files fsync\'d and renamed, registry row inserted). Unit: seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    checkpointBytes: new client.Gauge({
      name: 'freshet_checkpoint_bytes',
      help: 'Size of the last checkpoint written (every file of it). Unit: bytes.',
      registers: [registry],
    }),
    registryUp: new client.Gauge({
      name: 'freshet_registry_up',
      help: 'Whether this process reaches the registry database, probed at scrape time: 1 yes, 0 no. Unit: boolean.',
      registers: [registry],
      async collect() {
        if (sources.registryReachable) this.set((await sources.registryReachable().catch(() => false)) ? 1 : 0);
      },
    }),
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
