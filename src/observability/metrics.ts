// Prometheus metrics (prom-client), prefix `freshet_`. Names are a contract with the
// dashboards (docs/definitions.md › Metrics); help texts give the unit. One registry per process, created by
// the composition root and passed to modules; modules never create metrics themselves.
import client from 'prom-client';

/**
 * What the gauges read from the registry at scrape time, one entry per lineage the process
 * runs (every series carries the `lineage` label).
 */
export interface MetricSources {
  /** Jobs per lineage and state (the queue is shared by all daemons). */
  jobCounts?: () => Promise<Array<{ lineage: string; state: string; count: number }>>;
  /** Probes the registry at each scrape (a `select 1` with a short timeout). */
  registryReachable?: () => Promise<boolean>;
  /** Each lineage's champion version number (null: none yet) and the arrival time of the newest partition it was trained on. */
  champions?: () => Promise<Array<{ lineage: string; version: number | null; newestDataArrivedAt: Date | null }>>;
  /** Partitions waiting for their marker in each lineage's source (how many, the oldest's wait). */
  waiting?: () => Promise<Array<{ lineage: string; count: number; oldestSeconds: number | null }>>;
  /** Invalid rows each lineage's latest finished run skipped (null: no finished run). */
  lastRunInvalidRows?: () => Promise<Array<{ lineage: string; rows: number | null }>>;
  /** The latest drift per lineage and column (the feature_drift table). */
  drift?: () => Promise<Array<{ lineage: string; column: string; value: number; threshold: number }>>;
  /** Partitions in quarantine in each lineage's source, and the newest registered partition's missing share per column. */
  quality?: () => Promise<Array<{ lineage: string; quarantined: number; newestMissing: Array<{ column: string; share: number }> }>>;
}

/**
 * Every metric freshet exports, in one catalogue (why one long function: one entry per
 * metric, each a name, a help text with its unit and, for the gauges read at scrape time,
 * its collect; docs/definitions.md › Metrics lists the same names and a test keeps them in step).
 */
export function createMetrics(sources: MetricSources = {}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const gauge = <L extends string = never>(config: Omit<client.GaugeConfiguration<L>, 'registers'>) => new client.Gauge<L>({ ...config, registers });
  const counter = <L extends string = never>(config: Omit<client.CounterConfiguration<L>, 'registers'>) => new client.Counter<L>({ ...config, registers });
  const histogram = <L extends string = never>(config: Omit<client.HistogramConfiguration<L>, 'registers'>) => new client.Histogram<L>({ ...config, registers });
  let lastJobCounts: Awaited<ReturnType<NonNullable<MetricSources['jobCounts']>>> = [];

  // Gauges read at scrape time are collected concurrently (Promise.all over the registry);
  // the first to ask for a source starts one registry read, the others join it.
  const shared = <T,>(read: (() => Promise<T[]>) | undefined) => {
    let reading: Promise<T[]> | undefined;
    return () => (reading ??= (read?.() ?? Promise.resolve([])).catch(() => [] as T[]).finally(() => (reading = undefined)));
  };
  const readChampions = shared(sources.champions);
  const readWaiting = shared(sources.waiting);
  const readDrift = shared(sources.drift);
  const readQuality = shared(sources.quality);
  return {
    registry,
    championVersion: gauge({
      name: 'freshet_champion_version',
      help: 'Version number of the lineage\'s champion (0: none yet), read from the registry at scrape time. Unit: version number.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const c of await readChampions()) this.set({ lineage: c.lineage }, c.version ?? 0);
      },
    }),
    dataFreshnessSeconds: gauge({
      name: 'freshet_data_freshness_seconds',
      help: 'Age of the newest data the champion was trained on: now minus the arrival of its newest partition. Unit: seconds.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const c of await readChampions()) if (c.newestDataArrivedAt) this.set({ lineage: c.lineage }, (Date.now() - c.newestDataArrivedAt.getTime()) / 1000);
      },
    }),
    jobs: gauge({
      name: 'freshet_jobs',
      help: 'Jobs in the shared queue by lineage and state (queued, running, succeeded, failed, cancelled), read from the registry at scrape time. Unit: jobs.',
      labelNames: ['lineage', 'state'] as const,
      async collect() {
        if (!sources.jobCounts) return;
        // Registry down: report the last counts rather than failing the whole scrape.
        lastJobCounts = await sources.jobCounts().catch(() => lastJobCounts);
        for (const { lineage, state, count } of lastJobCounts) this.set({ lineage, state }, count);
      },
    }),
    jobDurationSeconds: histogram({
      name: 'freshet_job_duration_seconds',
      help: 'Wall time of a job attempt in this process, from claim to settle, by lineage and job kind. Unit: seconds.',
      labelNames: ['lineage', 'kind'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
    }),
    evalMetric: gauge({
      name: 'freshet_eval_metric',
      help: 'The gate\'s metric (eval.metric) at the last decision, on its gate rows, for the candidate, the champion and the naive baseline (the strongest of eval.naive on the gate rows: the median or mean label, the base rate, persistence, a seasonal lag or a column of the data). Unit: that of the metric (loss, mse, mae, logloss or auc).',
      labelNames: ['lineage', 'model'] as const,
    }),
    championBeatsNaive: gauge({
      name: 'freshet_champion_beats_naive',
      help: '1 when the model serving after the last decision did better than the naive baseline on that decision\'s gate rows, 0 when it did not (alert on 0: the model is not worth serving). Unit: boolean.',
      labelNames: ['lineage'] as const,
    }),
    championSkill: gauge({
      name: 'freshet_champion_skill',
      help: 'Skill of the model serving after the last decision over the naive baseline on its gate rows: 1 - metric / naive metric (for auc, (auc - 0.5) / 0.5). Below 0: worse than the baseline. Unit: ratio.',
      labelNames: ['lineage'] as const,
    }),
    promotionsTotal: counter({
      name: 'freshet_promotions_total',
      help: 'Gate decisions made by this process, by decision (promoted, rejected). Unit: decisions.',
      labelNames: ['lineage', 'decision'] as const,
    }),
    trainStepsTotal: counter({
      name: 'freshet_train_steps_total',
      help: 'Optimizer steps taken by this process\'s training runs, counted at each logged step and checkpoint. Unit: steps.',
      labelNames: ['lineage'] as const,
    }),
    trainExamplesPerSecond: gauge({
      name: 'freshet_train_examples_per_second',
      help: 'Training throughput since the previous logged step or checkpoint. Unit: examples per second.',
      labelNames: ['lineage'] as const,
    }),
    trainLoss: gauge({
      name: 'freshet_train_loss',
      help: 'Training loss of the running run: the batch loss at the last logged step. Unit: that of the training loss (mse, mae or logloss).',
      labelNames: ['lineage'] as const,
    }),
    valLoss: gauge({
      name: 'freshet_val_loss',
      help: 'Validation loss at the running run\'s last check (the training loss on the held-out rows). Unit: that of the training loss.',
      labelNames: ['lineage'] as const,
    }),
    virtualEpoch: gauge({
      name: 'freshet_virtual_epoch',
      help: 'Virtual epoch the running run has completed (continues across retrains from a base checkpoint). Unit: virtual epochs.',
      labelNames: ['lineage'] as const,
    }),
    checkpointWriteSeconds: histogram({
      name: 'freshet_checkpoint_write_seconds',
      help: 'Time to write one full-state checkpoint (files fsync\'d and renamed, registry row inserted). Unit: seconds.',
      labelNames: ['lineage'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    checkpointBytes: gauge({
      name: 'freshet_checkpoint_bytes',
      help: 'Size of the last checkpoint written (every file of it). Unit: bytes.',
      labelNames: ['lineage'] as const,
    }),
    registryUp: gauge({
      name: 'freshet_registry_up',
      help: 'Whether this process reaches the registry database, probed at scrape time: 1 yes, 0 no. Unit: boolean.',
      async collect() {
        if (sources.registryReachable) this.set((await sources.registryReachable().catch(() => false)) ? 1 : 0);
      },
    }),
    partitionsTotal: counter({
      name: 'freshet_partitions_total',
      help: 'Partition versions recorded by the watcher, by outcome: registered, quarantined (broke the lineage\'s schema), rejected, superseded (versions replaced by a newer one), duplicate (registered with the same content as another path\'s partition). Re-checks of unchanged content are not counted. Unit: partitions.',
      labelNames: ['lineage', 'status'] as const,
    }),
    partitionsWaiting: gauge({
      name: 'freshet_partitions_waiting_for_marker',
      help: 'Partition directories with data files but no completion marker yet (not trained on until marked), read from the registry at scrape time. Unit: partitions.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const w of await readWaiting()) this.set({ lineage: w.lineage }, w.count);
      },
    }),
    partitionWaitingOldestSeconds: gauge({
      name: 'freshet_partition_waiting_oldest_seconds',
      help: 'How long the longest-waiting partition without its marker has waited, from its oldest data file\'s mtime (0: none waits). Unit: seconds.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const w of await readWaiting()) this.set({ lineage: w.lineage }, w.oldestSeconds ?? 0);
      },
    }),
    partitionInvalidRowsTotal: counter({
      name: 'freshet_partition_invalid_rows_total',
      help: 'Rows of partitions registered by this process that cannot train (a missing, NaN or infinite value), counted at registration; training skips them. Unit: rows.',
      labelNames: ['lineage'] as const,
    }),
    lastRunInvalidRows: gauge({
      name: 'freshet_run_invalid_rows',
      help: 'Invalid rows (skipped) in the lineage\'s latest finished run, read from the registry at scrape time. Unit: rows.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const { lineage, rows } of (await sources.lastRunInvalidRows?.().catch(() => null)) ?? []) if (rows !== null) this.set({ lineage }, rows);
      },
    }),
    featureDrift: gauge({
      name: 'freshet_feature_drift',
      help: 'Drift of a column (features and label) of the fresh partitions against the champion\'s training partitions: the population stability index for numeric columns, the Jensen–Shannon distance (base 2) for categorical ones; read from the registry (feature_drift) at scrape time. Unit: index (PSI) or distance (0–1).',
      labelNames: ['lineage', 'column'] as const,
      async collect() {
        this.reset(); // a column without fresh data has no drift, not its last value
        for (const d of await readDrift()) this.set({ lineage: d.lineage, column: d.column }, d.value);
      },
    }),
    featureDriftThreshold: gauge({
      name: 'freshet_feature_drift_threshold',
      help: 'The threshold above which freshet_feature_drift counts as drift for the column (drift.psiThreshold or drift.jsThreshold; absent for drift.ignoreColumns). Unit: as freshet_feature_drift.',
      labelNames: ['lineage', 'column'] as const,
      async collect() {
        this.reset();
        for (const d of await readDrift()) if (Number.isFinite(d.threshold)) this.set({ lineage: d.lineage, column: d.column }, d.threshold);
      },
    }),
    partitionsQuarantined: gauge({
      name: 'freshet_partitions_quarantined',
      help: 'Partitions held in quarantine (they broke the lineage\'s schema; not trained or gated on until freshet partitions accept or reject), read from the registry at scrape time. Unit: partitions.',
      labelNames: ['lineage'] as const,
      async collect() {
        for (const q of await readQuality()) this.set({ lineage: q.lineage }, q.quarantined);
      },
    }),
    partitionMissingShare: gauge({
      name: 'freshet_partition_missing_share',
      help: 'Share of rows with the column missing (or NaN, infinite) in the newest registered partition, from its statistics. Unit: ratio (0–1).',
      labelNames: ['lineage', 'column'] as const,
      async collect() {
        for (const q of await readQuality()) for (const m of q.newestMissing) this.set({ lineage: q.lineage, column: m.column }, m.share);
      },
    }),
    predictRequestsTotal: counter({
      name: 'freshet_predict_requests_total',
      help: 'Prediction requests (POST /v1/models/<lineage>/predict, …/versions/<n>/predict, /v1/predict) answered by this process, by lineage ("none" when the request named none served), HTTP status (200, 400, 404, 413, 503…) and the model version that answered ("none" when none did). Unit: requests.',
      labelNames: ['lineage', 'status', 'version'] as const,
    }),
    predictRowsTotal: counter({
      name: 'freshet_predict_rows_total',
      help: 'Rows scored by the prediction endpoints, by lineage and model version. Unit: rows.',
      labelNames: ['lineage', 'version'] as const,
    }),
    predictSeconds: histogram({
      name: 'freshet_predict_seconds',
      help: 'Time to answer a prediction request (the body read excluded), by lineage and model version ("none" when none answered). Unit: seconds.',
      labelNames: ['lineage', 'version'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    predictUnseenValuesTotal: counter({
      name: 'freshet_predict_unseen_values_total',
      help: 'Categorical (and crossed) values in scored rows that the model never saw in training (read through an out-of-vocabulary bucket), by column and model version. Unit: values.',
      labelNames: ['lineage', 'column', 'version'] as const,
    }),
    partitionDetectSeconds: histogram({
      name: 'freshet_partition_detect_seconds',
      help: 'Time from a partition becoming complete (marker mtime) to its registry row committing, by lineage. Unit: seconds.',
      labelNames: ['lineage'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
