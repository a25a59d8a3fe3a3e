// Configuration: one zod schema that is also the single place where defaults live.
// Read once at the edge (file + environment), validated, frozen, passed explicitly.
// Why one file over 400 lines: the schema is the one place every key, its default and
// its description live (the README's reference table and the starter config are made
// from it); cut by section, the defaults would be spread over files again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cron from 'node-cron';
import YAML from 'yaml';
import { z } from 'zod';
import { closestName } from './closest-name.ts';
import { coerceError, ConfigError } from './errors.ts';
import { lineageConfigs } from './lineage-configs.ts';

/** A lineage's name: it names folders (servingDir/<lineage>), URLs (/v1/models/<lineage>) and metric labels. */
export const LINEAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** An eval.naive entry: a constant (median, mean), persistence (last), a seasonal lag (seasonal:K) or a column of the data (column:NAME). */
export const NAIVE_SPEC = /^(median|mean|last|seasonal:[1-9][0-9]*|column:.+)$/;
const lineageName = z.string().regex(LINEAGE_NAME, 'a lineage name is 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit');

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** The configuration schema. Every key has its default and its description here and nowhere else. */
export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('data').describe('Root of the Hive-style partition tree (dt=2026-11-26/...). Relative paths are relative to the config file.'),
  artifactsDir: z.string().min(1).default('.freshet/artifacts').describe('Where checkpoints and serving exports are written. Relative to the config file.'),
  servingDir: z.string().min(1).default('.freshet/serving').describe('Where the champion is exported for serving: <lineage>/<version>/ (tfjs model.json + weights taking raw inputs, vocabularies, normalization, metadata naming lineage, version and checkpoint) and <lineage>/current -> <version>. Relative to the config file.'),
  artifactStore: z.enum(['fs', 'postgres', 's3']).default('fs').describe('Where checkpoints are kept: fs (artifactsDir, shared by all workers), postgres (chunked rows in the registry, for workers without a shared filesystem) or s3 (objects under artifactsUri, for workers on several machines); with postgres and s3, artifactsDir is a local cache.'),
  artifactsUri: z.string().regex(/^s3:\/\/[^/]+/, 'an s3://bucket/prefix location').optional().describe('With artifactStore s3: the bucket prefix checkpoints are kept under (checkpoints/lineage-<id>/run-<id>/step-<n>/, manifest written last), and the champion\'s exports (serving/<lineage>/<version>/ and serving/<lineage>/current, a pointer object holding the version).'),
  database: z
    .strictObject({
      url: z.string().min(1).optional().describe('PostgreSQL connection string (also DATABASE_URL). Unset: freshet runs an embedded server.'),
      connectTimeoutSeconds: z.number().positive().max(300).default(5).describe('Seconds a one-shot command waits for the server before it fails (exit 3).'),
      maxBackoffSeconds: z.number().positive().default(30).describe('Longest pause, in seconds, between the daemon\'s reconnection attempts.'),
      queryTimeoutSeconds: z.number().positive().default(120).describe('Seconds a statement waits for the server\'s reply before it fails and its connection is dropped (a network that silently loses packets).'),
      embedded: z
        .strictObject({
          dataDir: z.string().min(1).default('.freshet/pg').describe('Data directory of the embedded server. Relative to the config file.'),
          port: z.number().int().min(0).max(65535).default(0).describe('TCP port on 127.0.0.1 for the embedded server; 0 picks a free port at each start.'),
          database: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier').default('freshet').describe('Database freshet creates and uses inside the embedded server.'),
        })
        .prefault({}),
    })
    .prefault({}),
  watcher: z
    .strictObject({
      mode: z.enum(['marker', 'stable']).default('marker').describe('marker: a partition is complete when its marker file appears; stable: when no file in it changed for stableMs.'),
      marker: z.string().min(1).default('_SUCCESS').describe('Name of the completion marker file (the Hadoop/Spark convention).'),
      stableMs: z.number().int().positive().default(5000).describe('stable mode: milliseconds without a change before a partition counts as complete.'),
      polling: z.boolean().default(false).describe('Poll the filesystem instead of using OS events (for network filesystems).'),
      pollIntervalMs: z.number().int().positive().default(1000).describe('Polling interval in milliseconds, when polling.'),
      rescanIntervalSeconds: z.number().min(0).default(300).describe('Full rescan every N seconds, the safety net for missed events; 0 turns it off.'),
      concurrency: z.number().int().positive().default(2).describe('Partitions inspected (hashed, validated) at once.'),
      parquetTimeLimitSeconds: z.number().positive().default(60).describe('A Parquet file not decoded within this many seconds (plus one per MB) is rejected: a damaged file can send the decoder into a loop, so it runs on a worker thread that is stopped.'),
    })
    .prefault({}),
  lineage: lineageName.default('default').describe('Name of the model lineage this configuration trains (a model family on one config), when `lineages` is empty.'),
  lineages: z
    .record(lineageName, z.record(z.string(), z.unknown()))
    .default({})
    .describe('Several lineages in one configuration: name → the keys in which it differs from the top level (dataDir, watcher, columns, model, training, retrain, plateau, eval; deep-merged over the top-level values, which are the defaults every lineage inherits). Empty: one lineage, named by `lineage`. See README › Many lineages.'),
  columns: z
    .strictObject({
      features: z.array(z.string().min(1)).default([]).describe('Numeric feature columns, in model input order. Required to train.'),
      label: z.string().default('').describe('Label column: a number (regression) or 0/1 (binary). Required to train.'),
      categorical: z.array(z.string().min(1)).default([]).describe('Categorical columns (strings, or integer ids), in model input order after the numeric features. Each gets a vocabulary when the lineage starts and an embedding in the built-in MLP; see docs/definitions.md.'),
      crosses: z
        .array(z.array(z.string().min(1)).min(2, 'a crossed column joins at least two categorical columns'))
        .default([])
        .describe('Crossed columns (Feature Cross): each a list of two or more columns of columns.categorical whose values, joined by ×, make one more categorical column (named a×b) with its own vocabulary and embedding, after the categorical ones. Made by freshet from the raw columns, in training and in predictions; see docs/definitions.md.'),
      vocabulary: z
        .strictObject({
          minCount: z.number().int().positive().default(10).describe('A value joins a categorical column\'s vocabulary once it occurs in at least this many training rows (when the lineage starts, and in a retrain\'s fresh partitions).'),
          maxTokens: z.number().int().positive().default(10000).describe('Most values in one column\'s vocabulary (the most frequent first); the rest share the out-of-vocabulary buckets.'),
          oovBuckets: z.number().int().positive().default(4).describe('Out-of-vocabulary buckets per column: a value outside the vocabulary maps to bucket FNV-1a(value) mod oovBuckets. Fixed for a lineage.'),
          embeddingDim: z.number().int().min(0).default(0).describe('Embedding size of each categorical column in the built-in MLP; 0: ceil(2 · size^0.25) clamped to 2..32, size = oovBuckets + vocabulary.'),
        })
        .prefault({}),
    })
    .refine((c) => new Set([...c.features, ...c.categorical, c.label].filter(Boolean)).size === [...c.features, ...c.categorical, c.label].filter(Boolean).length, { message: 'a column may appear once among features, categorical and label', path: ['categorical'] })
    .superRefine((c, context) => {
      const seen = new Set<string>();
      c.crosses.forEach((sources, i) => {
        const problem = sources.find((source) => !c.categorical.includes(source));
        if (problem !== undefined) context.addIssue({ code: 'custom', message: `"${problem}" is not in columns.categorical (a crossed column joins categorical columns)`, path: ['crosses', i] });
        if (new Set(sources).size !== sources.length) context.addIssue({ code: 'custom', message: 'lists a column twice', path: ['crosses', i] });
        const key = sources.join('\u0000');
        if (seen.has(key)) context.addIssue({ code: 'custom', message: 'the same crossed column twice', path: ['crosses', i] });
        seen.add(key);
      });
    })
    .prefault({}),
  model: z
    .strictObject({
      task: z.enum(['regression', 'binary']).default('regression').describe('regression (loss MSE or MAE) or binary classification (log loss; AUC reported).'),
      loss: z.enum(['mse', 'mae', 'logloss']).optional().describe('Training loss; default mse for regression, logloss for binary.'),
      hidden: z.array(z.number().int().positive()).default([64, 64]).describe('Hidden layer sizes of the built-in MLP.'),
      activation: z.enum(['relu', 'tanh', 'elu', 'sigmoid']).default('relu').describe('Hidden-layer activation of the built-in MLP.'),
      dropout: z.number().min(0).max(0.9).default(0).describe('Dropout rate after each hidden layer (seeded per step, so resume stays exact).'),
      l2: z.number().min(0).default(0).describe('L2 penalty on the MLP kernels, added to the loss.'),
      module: z.string().optional().describe('User model: an ES module exporting createModel(tf, { inputDim }) that returns a tf.LayersModel. Relative to the config file.'),
    })
    // A loss that does not fit the task is refused when the configuration is read, not when training starts.
    .superRefine((m, context) => {
      if (m.task === 'binary' && m.loss !== undefined && m.loss !== 'logloss') context.addIssue({ code: 'custom', path: ['loss'], message: `${m.loss} does not fit task binary (use logloss, or leave it unset)` });
      if (m.task === 'regression' && m.loss === 'logloss') context.addIssue({ code: 'custom', path: ['loss'], message: 'logloss does not fit task regression (use mse or mae, or leave it unset)' });
    })
    .prefault({}),
  training: z
    .strictObject({
      backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('tfjs backend: auto uses @tensorflow/tfjs-node when installed, else wasm.'),
      batchSize: z.number().int().positive().default(256).describe('Examples per step. Fixed for a lineage.'),
      learningRate: z.number().positive().default(0.001).describe('Adam learning rate.'),
      numCheckpoints: z.number().int().positive().default(15).describe('Virtual epochs in a first training run; one checkpoint at the end of each. Fixed for a lineage.'),
      stopPoint: z.number().positive().default(3).describe('Passes over the training data a first run makes; with numCheckpoints and batchSize it fixes steps_per_epoch.'),
      extraEpochs: z.number().int().min(0).default(45).describe('A lineage\'s first run still descending at its last virtual epoch (its check lowered the best validation loss by at least 1%) goes on, one virtual epoch at a time while each check does, up to this many more than numCheckpoints: early stopping decides when a first model is done, steps_per_epoch stays fixed. 0: stop at numCheckpoints.'),
      minSteps: z.number().int().min(0).default(500).describe('Floor of a first run\'s steps (steps_per_epoch ≥ minSteps / numCheckpoints), whatever stopPoint gives on little data; early stopping decides when to stop inside it. Read when a lineage starts, like stopPoint; the batch size is also clamped to 1/16 of the training rows then.'),
      seed: z.number().int().min(0).default(42).describe('Seed for initialisation, shuffling, the eval split and dropout.'),
      shuffleBuffer: z.number().int().positive().default(10000).describe('Rows in the seeded shuffle buffer.'),
      evalFraction: z.number().gt(0).lt(1).default(0.1).describe('Share of each partition held out for evaluation (by a hash of partition and row; never trained on).'),
      evalMaxRows: z.number().int().positive().default(100000).describe('Most rows kept in memory for validation loss and metrics and for the gate; beyond it, a uniform sample of all the rows (of every fresh partition for validation, of the held-out partitions for the gate, which the decision\'s reason says).'),
      checkpointEvery: z.number().int().min(0).default(0).describe('Extra checkpoint (and early-stopping check) every N steps inside a virtual epoch; 0 = only at virtual-epoch ends.'),
      logEvery: z.number().int().positive().default(50).describe('Record the mean training loss since the previous point into loss_points every N steps (with early checkpoints, also at them and at every power of two below N, where the loss falls fastest).'),
      earlyCheckpoints: z
        .strictObject({
          firstStep: z.number().int().min(0).default(16).describe('A run starting at step 0 (a lineage\'s first run) also checkpoints at steps firstStep·2^k, where the loss falls, so the knee has checkpoints around it; 0 turns this off. The schedule is fixed per lineage (lineages.early_checkpoint_steps).'),
          untilEpoch: z.number().int().positive().default(2).describe('... for steps inside the first untilEpoch virtual epochs.'),
        })
        .prefault({}),
      invalidRows: z.enum(['skip', 'reject']).default('skip').describe('Rows with missing, NaN or infinite values: skip and count them, or fail the partition.'),
      earlyStopping: z
        .strictObject({
          enabled: z.boolean().default(true).describe('Stop when val_loss stops improving (Keras semantics).'),
          patience: z.number().int().min(0).default(3).describe('Checks without improvement before stopping (above 0: a rising val_loss may fall again).'),
          minDelta: z.number().min(0).default(0).describe('Improvement means val_loss < best - minDelta.'),
          startFromEpoch: z.number().int().min(0).default(0).describe('Virtual epochs to train before early stopping may stop the run.'),
          restoreBestWeights: z.boolean().default(true).describe('End the run with the weights of the best val_loss checkpoint, whether or not stopping fired.'),
        })
        .prefault({}),
      retention: z
        .strictObject({
          keepLast: z.number().int().min(1).default(3).describe('Checkpoints kept per run: the most recent N.'),
          keepBest: z.number().int().min(1).default(3).describe('Checkpoints kept per run: the N with the lowest val_loss.'),
        })
        .prefault({}),
    })
    .prefault({}),
  retrain: z
    .strictObject({
      schedule: z.string().refine((value) => value === '' || cron.validate(value), 'not a valid cron expression (5 fields, or 6 with seconds)').default('*/15 * * * *').describe('node-cron schedule at which the retrain policy is checked (5 fields, or 6 with seconds); empty: no schedule. One tick per slot across all daemons.'),
      onArrival: z.boolean().default(true).describe('Also check the retrain policy whenever a partition is registered (by any daemon: LISTEN).'),
      onDrift: z.boolean().default(false).describe('Also retrain when a column of the fresh partitions drifts past its threshold (drift.*), whatever minNewPartitions and minNewExamples say.'),
      minNewPartitions: z.number().int().min(1).default(1).describe('Retrain when at least this many fresh partitions (not learned by the champion) are untried by any finished run ...'),
      minNewExamples: z.number().int().min(0).default(0).describe('... and together hold at least this many rows ...'),
      maxStalenessSeconds: z.number().min(0).default(3600).describe('... or when the oldest such partition has waited this long, whatever the two thresholds say; 0 turns this off.'),
      virtualEpochs: z.number().int().positive().default(5).describe('Virtual epochs a retrain runs (of the lineage\'s fixed steps_per_epoch).'),
      base: z.enum(['pre-plateau', 'last', 'best-val', 'scratch', 'auto']).default('auto').describe('Checkpoint a retrain starts from: auto (of pre-plateau, last and best-val, the one with the lowest loss on the fresh eval rows; the default, see BENCHMARKS.md), pre-plateau (the one before the training-loss plateau), last, best-val, or scratch.'),
      replayPartitions: z.number().int().min(0).default(3).describe('Older partitions (the newest the champion was trained on) mixed into a retrain so it does not forget.'),
      replayFraction: z.number().gt(0).max(1).default(0.5).describe('Share of each replayed partition\'s training rows used (new partitions use all of theirs).'),
      averageCheckpoints: z.number().int().positive().default(1).describe('A retrain\'s result is the mean of the weights of its last this many checkpoints (stochastic weight averaging), recorded as one more checkpoint one step after its last (restore-best does not apply then); 1: the result is the last or best checkpoint, as before. At most training.retention.keepLast. See docs/definitions.md › Averaged retrains.'),
    })
    .prefault({}),
  plateau: z
    .strictObject({
      method: z.enum(['knee', 'epochs']).default('knee').describe('How the pre-plateau checkpoint is found: knee (the Kneedle knee of the step-level training loss, loss_points, after a running median and a non-increasing fit; the newest checkpoint at or before it) or epochs (the per-virtual-epoch rule: alpha, window, minGain, offset). See docs/definitions.md.'),
      smoothWindow: z.number().int().positive().refine((n) => n % 2 === 1, 'must be odd').default(9).describe('knee: loss points in the running median (odd).'),
      minDrop: z.number().min(0).lt(1).default(0.02).describe('knee: smallest fall of the smoothed loss, as a share of its start, that counts as a descent (below it: no knee, the latest checkpoint).'),
      minDistance: z.number().min(0).lt(1).default(0.1).describe('knee: smallest Kneedle distance that counts as a bend (below it the loss still falls like a straight line: the latest checkpoint).'),
      alpha: z.number().gt(0).max(1).default(0.5).describe('epochs: EMA smoothing of the per-virtual-epoch training loss (1: none).'),
      window: z.number().int().positive().default(3).describe('epochs: checkpoints to look ahead: a plateau starts where the next `window` gain at most minGain of the descent so far.'),
      minGain: z.number().min(0).default(0.05).describe('epochs: share of the descent so far below which the next window counts as flat.'),
      offset: z.number().int().min(0).default(1).describe('epochs: checkpoints before the plateau start to choose as the retraining base.'),
    })
    .prefault({}),
  eval: z
    .strictObject({
      metric: z.enum(['loss', 'mse', 'mae', 'logloss', 'auc']).default('loss').describe('Metric the gate compares on its gate rows (see eval.holdout): loss (the training loss), mse, mae, logloss (lower is better) or auc (higher is better).'),
      minImprovement: z.number().min(0).default(0.01).describe('A candidate replaces the champion only if better by at least this share of the champion\'s metric (0.01 = 1%).'),
      minAbsoluteImprovement: z.number().min(0).default(0).describe('... and by at least this much in absolute terms (TFX change threshold).'),
      upperBound: z.number().optional().describe('A candidate whose metric is above this is never promoted (TFX value threshold), champion or not.'),
      lowerBound: z.number().optional().describe('A candidate whose metric is below this is never promoted (for metrics where higher is better, e.g. auc).'),
      holdout: z.enum(['newest', 'random']).default('newest').describe('Gate rows. newest: every row of the newest fresh partition(s) in partition-key order, kept out of the candidate\'s training, validation and base choice (a forward test; the next retrain learns them). random: the row-hash held-out rows of the fresh partitions, the same rows that validated the candidate (in-period).'),
      holdoutPartitions: z.number().int().positive().default(1).describe('holdout newest: how many of the newest fresh partitions are the gate rows. With this many fresh partitions or fewer, that decision falls back to the random holdout and says so.'),
      confidence: z.number().min(0).lt(1).default(0.9).describe('Promote only when the one-sided paired block-bootstrap lower bound of the improvement at this confidence is above 0; 0 turns the test off.'),
      bootstrapSamples: z.number().int().min(100).default(1000).describe('Bootstrap resamples for eval.confidence.'),
      bootstrapBlocks: z.number().int().min(2).default(20).describe('Contiguous blocks (in partition, file and line order, i.e. time blocks) the gate rows are cut into and resampled by, so correlated neighbouring rows are not counted as independent.'),
      naive: z
        .array(z.string().regex(NAIVE_SPEC, 'expected median, mean, last, seasonal:K (K a whole number of partitions) or column:NAME'))
        .min(1)
        .default(['median', 'mean'])
        .describe('The naive baselines the gate scores beside the models; the strongest of them on the gate rows is the one a decision is held to (eval.mustBeatNaive), the skill is measured against, and (when it is a constant) eval.fallback serves. median, mean: constants of the training window\'s labels (for binary both are the base rate). last: each entity\'s (eval.entityColumn) mean label in its newest earlier partition, i.e. persistence. seasonal:K: its mean label K partitions before. column:NAME: a baseline shipped in the data (e.g. the forecast in production today). A row without one gets the median. last, seasonal and column cannot serve (they need labels or a column at request time); a row\'s own partition never predicts it.'),
      entityColumn: z.string().min(1).optional().describe('The column naming the entity (a store, a sensor, an airport) whose earlier labels eval.naive last and seasonal:K predict with; unset: the whole partition is one entity.'),
      mustBeatNaive: z.boolean().default(true).describe('Do not promote a candidate that does no better than the naive baseline (the strongest of eval.naive on the gate rows) — unless the champion does no better either and eval.fallback is none: then the better of the two models serves. A per-row baseline (last, seasonal, column) cannot serve: when it is the strongest and the champion does not beat it, the candidate is held to the best constant instead, by the same rule.'),
      fallback: z
        .enum(['none', 'naive'])
        .default('naive')
        .describe('naive: when the model candidate is rejected and the champion (or, before the first model, nothing) does no better than the naive baseline on the gate rows, serve that constant as a model version of its own (exported like any other) until a model beats it (the default since issue #29: on the 2001 flights it turned the numeric defaults from −0.4% ± 1.4 into +0.3% ± 0.2 over the naive baseline, BENCHMARKS.md). none: keep the champion.'),
      slices: z.array(z.string().min(1)).default([]).describe('Categorical columns (of columns.categorical) whose values the gate also scores on their own: a candidate worse than the champion on a value with at least eval.minSliceRows gate rows by more than eval.maxSliceRegression is rejected, the slice named (TFX Evaluator slicing).'),
      maxSliceRegression: z.number().min(0).default(0.05).describe('Most a candidate may be worse than the champion on one slice, relative to the champion\'s metric there (0.05 = 5%).'),
      minSliceRows: z.number().int().positive().default(200).describe('Gate rows a slice value needs to be scored (fewer: too noisy to judge).'),
    })
    .prefault({}),
  queue: z
    .strictObject({
      leaseSeconds: z.number().positive().default(60).describe('A claimed job\'s lease; a worker that stops heartbeating loses the job after this long and another resumes it.'),
      heartbeatSeconds: z.number().positive().default(15).describe('How often a worker renews its lease. Must be below leaseSeconds.'),
      pollIntervalSeconds: z.number().positive().default(5).describe('An idle worker looks for jobs this often; NOTIFY wakes it sooner.'),
      maxAttempts: z.number().int().positive().default(5).describe('Attempts before a job fails for good (a lease that expired counts as one).'),
      backoffSeconds: z.number().min(0).default(10).describe('Delay before the first retry of a failed job; doubles with each attempt ...'),
      maxBackoffSeconds: z.number().min(0).default(600).describe('... up to this.'),
      concurrency: z
        .union([z.literal('cores'), z.number().int().min(0)])
        .default('cores')
        .transform((n) => (n === 'cores' ? os.availableParallelism() : n))
        .describe('Jobs one process runs at once, across its lineages (at most one retrain per lineage at a time): cores (the default: one per core, as training is CPU-bound) or a number; 0: this daemon runs no jobs.'),
      lineages: z.array(lineageName).default([]).describe('The lineages this daemon watches, schedules and claims jobs of (names from `lineages`); empty: all of them. Other daemons on the same registry take the rest.'),
    })
    .refine((queue) => queue.heartbeatSeconds < queue.leaseSeconds, { message: 'must be below queue.leaseSeconds', path: ['heartbeatSeconds'] })
    .prefault({}),
  http: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve /metrics, /healthz, /readyz and the status page.'),
      host: z.string().min(1).default('127.0.0.1').describe('Address to bind. Anything but loopback exposes the registry\'s contents: an explicit choice.'),
      port: z.number().int().min(0).max(65535).default(9464).describe('TCP port; 0 picks a free one (logged).'),
      maxBodyBytes: z.number().int().positive().default(1048576).describe('Largest request body POST /v1/predict accepts (413 above it).'),
      refreshSeconds: z.number().min(0).default(15).describe('The status page refreshes its content in place this often, in a browser with JavaScript (no reload); 0 turns it off.'),
    })
    .prefault({}),
  s3: z
    .strictObject({
      endpoint: z.string().url().optional().describe('S3-compatible endpoint for s3:// locations (MinIO, Cloudflare R2, Ceph RGW, SeaweedFS, Garage: e.g. http://127.0.0.1:9000); unset: AWS. Credentials come from the AWS SDK\'s default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared profile, container and instance roles).'),
      region: z.string().min(1).default('us-east-1').describe('Region of the bucket (also AWS_REGION).'),
      forcePathStyle: z.boolean().default(false).describe('Path-style requests (endpoint/bucket/key), which most S3-compatible stores need.'),
      maxAttempts: z.number().int().positive().default(5).describe('Attempts per S3 request, the first included; the SDK retries 5xx and throttling (SlowDown) with backoff.'),
      pollSeconds: z.number().positive().default(30).describe('An s3:// dataDir is listed (ListObjectsV2) this often for new and completed partitions: object storage sends no events.'),
      cacheDir: z.string().min(1).default('.freshet/s3-cache').describe('Local copies of objects read from an s3:// dataDir, kept by ETag, so that a retrain\'s replayed partitions are not downloaded again (a conditional GET answers 304). Relative to the config file.'),
      cacheBytes: z.number().int().min(0).default(1073741824).describe('Most bytes the S3 cache keeps; the least recently used copies go first; 0 turns the cache off.'),
    })
    .prefault({}),
  validation: z
    .strictObject({
      mode: z.enum(['block', 'warn', 'off']).default('block').describe('What an anomaly against the lineage\'s schema (freshet schema show) does to a new partition: block (quarantined: not trained or gated on until freshet partitions accept), warn (registered, the anomaly logged and recorded), off (not checked). The schema is inferred from the partitions of the first model.'),
    })
    .prefault({}),
  drift: z
    .strictObject({
      psiThreshold: z.number().positive().default(0.2).describe('A numeric column drifts when the population stability index of the fresh partitions against the champion\'s training partitions exceeds this (0.1–0.25: moderate, above: large).'),
      jsThreshold: z.number().positive().max(1).default(0.2).describe('A categorical column drifts when the Jensen–Shannon distance (base 2, 0 … 1) exceeds this; the statistics\' value sample alone gives about 0.1 on a day of 200 categories, so lower values alarm on noise.'),
      ignoreColumns: z.array(z.string().min(1)).default([]).describe('Columns whose drift is computed and shown but never alarms or triggers a retrain (a weekday column in daily partitions differs from the training window by construction).'),
    })
    .prefault({}),
  notify: z
    .strictObject({
      webhooks: z
        .array(
          z.strictObject({
            url: z.string().url(),
            events: z.array(z.enum(['promoted', 'rejected', 'fallback', 'manual', 'rollback', 'job_failed', 'quarantined', 'drift'])).min(1).default(['promoted', 'rejected', 'fallback', 'manual', 'rollback', 'job_failed', 'quarantined', 'drift']),
            secret: z.string().min(16, 'at least 16 characters').optional(),
          }),
        )
        .default([])
        .describe('Webhooks told about events: [{url, events, secret}] — events from promoted, rejected, fallback, manual, rollback, job_failed (default: all); with a secret, each request is signed (X-Freshet-Signature). Delivered from the registry\'s outbox, retried until a 2xx: see README › Notifications.'),
      pollSeconds: z.number().positive().default(2).describe('How often new events are looked for and due deliveries retried.'),
      timeoutSeconds: z.number().positive().default(10).describe('A webhook request that has not answered in this many seconds counts as failed (and is retried).'),
      backoffSeconds: z.number().positive().default(1).describe('Delay before retrying a failed delivery; doubles with each attempt ...'),
      maxBackoffSeconds: z.number().positive().default(300).describe('... up to this.'),
    })
    .prefault({}),
  serving: z
    .strictObject({
      maxLoadedModels: z.number().int().positive().default(20).describe('Most models the daemon keeps loaded for predictions, across lineages and versions; a model loads on its first request, and the least recently used one is evicted beyond this.'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: logLevel.default('info').describe('pino log level: fatal, error, warn, info, debug, trace or silent.'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('json (one object a line), pretty, or auto: pretty when stderr is a terminal.'),
    })
    .prefault({}),
  daemon: z
    .strictObject({
      shutdownTimeoutSeconds: z.number().positive().default(30).describe('Seconds a graceful shutdown may take before it is forced.'),
    })
    .prefault({}),
}).superRefine((config, context) => {
  // With lineages, each lineage's merged configuration is checked on its own (lineage-configs.ts).
  const sliced = Object.keys(config.lineages ?? {}).length > 0 ? [] : config.eval.slices;
  for (const [i, column] of sliced.entries()) {
    if (!config.columns.categorical.includes(column)) context.addIssue({ code: 'custom', path: ['eval', 'slices', i], message: `${column} is not one of columns.categorical (${config.columns.categorical.join(', ') || 'none'}): a slice is a categorical column` });
  }
  for (const [i, spec] of config.eval.naive.entries()) {
    const column = spec.startsWith('column:') ? spec.slice('column:'.length) : undefined;
    if (column !== undefined && column === config.columns.label) context.addIssue({ code: 'custom', path: ['eval', 'naive', i], message: `${spec}: the label itself cannot be its own baseline` });
  }
  if (config.eval.entityColumn !== undefined && config.eval.entityColumn === config.columns.label) context.addIssue({ code: 'custom', path: ['eval', 'entityColumn'], message: `${config.eval.entityColumn} is the label: the entity is the column naming whose label it is` });
  if (config.retrain.averageCheckpoints > config.training.retention.keepLast) {
    context.addIssue({ code: 'custom', path: ['retrain', 'averageCheckpoints'], message: `${config.retrain.averageCheckpoints} is more than training.retention.keepLast (${config.training.retention.keepLast}): the checkpoints averaged must still be kept when the run ends` });
  }
  if (config.artifactStore === 's3' && !config.artifactsUri) context.addIssue({ code: 'custom', path: ['artifactsUri'], message: 'required with artifactStore s3 (s3://bucket/prefix)' });
});

/** One leaf of the schema, for the starter config and the README reference. */
export interface ConfigKey {
  path: string;
  default: unknown;
  description: string;
}

/** Lists every leaf key with its default and description, in schema order. */
export function describeConfigKeys(schema: z.ZodType = configSchema, prefix = ''): ConfigKey[] {
  const def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, inner]) => describeConfigKeys(inner, prefix ? `${prefix}.${key}` : key));
  }
  if ((def.type === 'prefault' || def.type === 'optional') && def.innerType && !schema.description) {
    return describeConfigKeys(def.innerType, prefix);
  }
  // A default resolved when loaded (queue.concurrency: cores) is shown as written, not as this machine resolves it.
  const written = def.type === 'pipe' ? (def as unknown as { in: z.ZodType }).in : schema;
  const parsed = written.safeParse(undefined);
  return [{ path: prefix, default: parsed.success ? parsed.data : undefined, description: schema.description ?? '' }];
}

/** The configuration reference as a Markdown table (the README embeds it; a test keeps them equal). */
export function configReferenceTable(): string {
  const rows = describeConfigKeys().map(
    (key) => `| \`${key.path}\` | ${key.default === undefined ? '(unset)' : `\`${JSON.stringify(key.default)}\``} | ${key.description} |`,
  );
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

export type Config = z.output<typeof configSchema>;
/** A validated, frozen configuration plus where it came from. */
export type ResolvedConfig = Readonly<Config> & { readonly source: string; readonly baseDir: string };

export const CONFIG_FILE_NAMES = ['freshet.config.yaml', 'freshet.config.yml', 'freshet.config.json'];

/**
 * Environment overrides. `DATABASE_URL` is the conventional name; every other key is
 * `FRESHET_` + the key path with `__` between levels, in upper snake case:
 * `FRESHET_LOG__LEVEL=debug`, `FRESHET_DATABASE__EMBEDDED__PORT=5433`, `FRESHET_DATA_DIR=/data`.
 * Values are parsed as JSON when they parse (numbers, booleans, arrays), else taken as strings.
 */
function environmentOverrides(env: NodeJS.ProcessEnv): Array<{ variable: string; keyPath: string[]; value: unknown }> {
  const out: Array<{ variable: string; keyPath: string[]; value: unknown }> = [];
  if (env.DATABASE_URL) out.push({ variable: 'DATABASE_URL', keyPath: ['database', 'url'], value: env.DATABASE_URL });
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith('FRESHET_') || raw === undefined) continue;
    if (variable === 'FRESHET_CONFIG') continue;
    const keyPath = variable
      .slice('FRESHET_'.length)
      .split('__')
      .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: a plain string such as a path or a URL.
    }
    out.push({ variable, keyPath, value });
  }
  return out;
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) return; // the schema will name it
    node = node[key] as Record<string, unknown>;
  }
  node[keyPath.at(-1)!] = value;
}

function parseFile(file: string, text: string): unknown {
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${file}: not valid JSON: ${coerceError(error).message}`);
    }
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    throw new ConfigError(`${file}${where}: not valid YAML: ${first.message.split('\n')[0]}`);
  }
  return doc.toJS() ?? {};
}

/** Flattens zod issues into (key path, message) pairs: one per unknown key. */
export function flattenIssues(issues: readonly z.core.$ZodIssue[]): Array<{ keyPath: string; message: string; unknown: boolean }> {
  return issues.flatMap((issue): Array<{ keyPath: string; message: string; unknown: boolean }> => {
    const base = issue.path.map(String);
    if (issue.code === 'invalid_key') {
      const why = (issue as { issues?: Array<{ message: string }> }).issues?.[0]?.message ?? issue.message;
      return [{ keyPath: base.join('.'), message: `not a valid name: ${why}`, unknown: false }];
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ keyPath: [...base, key].join('.'), message: 'unknown key', unknown: true }));
    }
    return [{ keyPath: base.join('.') || '(top level)', message: issue.message, unknown: false }];
  });
}

function hasPath(value: unknown, keyPath: readonly string[]): boolean {
  let at = value;
  for (const key of keyPath) {
    if (typeof at !== 'object' || at === null || !(key in at)) return false;
    at = (at as Record<string, unknown>)[key];
  }
  return true;
}

/** The known key nearest to a mistyped one, at the same level under the same parent (training.batchSzie → training.batchSize). */
export function closestKey(keyPath: string): string | undefined {
  const parts = keyPath.split('.');
  const parent = parts.slice(0, -1).join('.');
  const siblings = new Set(
    describeConfigKeys()
      .map((key) => key.path.split('.'))
      .filter((path) => path.length >= parts.length && path.slice(0, parts.length - 1).join('.') === parent)
      .map((path) => path[parts.length - 1]!),
  );
  const found = closestName(parts.at(-1)!, siblings);
  return found === undefined ? undefined : [...parts.slice(0, -1), found].join('.');
}

/** A key path segment as the environment spells it: batchSize → BATCH_SIZE. */
function toEnvWord(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export interface LoadConfigOptions {
  /** Explicit config file (`--config`); a missing explicit file is an error. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Loads, validates and freezes the configuration. Without an explicit file it looks for
 * `freshet.config.{yaml,yml,json}` in `cwd` and falls back to the defaults.
 * Throws ConfigError naming the file (or environment variable) and key path.
 */
export function loadConfig({ file, env = process.env, cwd = process.cwd() }: LoadConfigOptions = {}): ResolvedConfig {
  const explicit = file ?? env.FRESHET_CONFIG;
  let source = '(defaults)';
  let raw: unknown = {};
  let baseDir = cwd;
  if (explicit) {
    const resolved = path.resolve(cwd, explicit);
    if (!fs.existsSync(resolved)) throw new ConfigError(`config file ${resolved} does not exist`);
    source = resolved;
  } else {
    const found = CONFIG_FILE_NAMES.map((name) => path.join(cwd, name)).find((candidate) => fs.existsSync(candidate));
    if (found) source = found;
  }
  if (source !== '(defaults)') {
    let text: string;
    try {
      text = fs.readFileSync(source, 'utf8');
    } catch (error) {
      throw new ConfigError(`config file ${source} cannot be read: ${coerceError(error).message}`, { cause: error });
    }
    raw = parseFile(source, text);
    baseDir = path.dirname(source);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the configuration must be a mapping of keys to values`);
  }

  const merged = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const { variable, keyPath, value } of environmentOverrides(env)) {
    setPath(merged, keyPath, value);
    fromEnv.set(keyPath.join('.'), variable);
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = flattenIssues(result.error.issues).map(({ keyPath, message, unknown }) => {
      // An unknown key the file does not hold came from a variable that names a key below it (FRESHET_TRAINNG__BATCH_SIZE: trainng).
      const [envPath, variable] = [...fromEnv].find(([envPath]) => keyPath === envPath || keyPath.startsWith(`${envPath}.`) || (unknown && envPath.startsWith(`${keyPath}.`) && !hasPath(raw, keyPath.split('.')))) ?? [];
      const suggestion = unknown ? closestKey(keyPath) : undefined;
      // For a variable, the variable it was probably meant to be: the mistyped level replaced, the levels below kept.
      const meant = suggestion && envPath ? `FRESHET_${[...suggestion.split('.'), ...envPath.split('.').slice(suggestion.split('.').length)].map(toEnvWord).join('__')}` : suggestion;
      return `${variable ? `environment variable ${variable}` : source}: ${keyPath}: ${message}${meant ? ` (did you mean ${meant}?)` : ''}`;
    });
    throw new ConfigError(`invalid configuration\n  ${lines.join('\n  ')}`);
  }
  const config = result.data;
  const absolute = (p: string): string => path.resolve(baseDir, p);
  // A location with a scheme (mem://, s3://) is a door's, not a path: kept as written.
  config.dataDir = /^[a-z][a-z0-9+.-]*:\/\//i.test(config.dataDir) ? config.dataDir : absolute(config.dataDir);
  config.artifactsDir = absolute(config.artifactsDir);
  config.servingDir = absolute(config.servingDir);
  config.database.embedded.dataDir = absolute(config.database.embedded.dataDir);
  config.s3.cacheDir = absolute(config.s3.cacheDir);
  if (config.model.module) config.model.module = absolute(config.model.module);
  const frozen = deepFreeze({ ...config, source, baseDir });
  lineageConfigs(frozen); // each lineage resolved and checked now: a bad one fails at load, naming it
  return frozen;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
