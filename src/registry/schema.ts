// Table types for Kysely. They mirror migrations/ and are checked against the real
// database by test/registry-schema.test.ts, so a migration cannot drift from them silently.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Anomaly, DataSchema, PartitionStats } from '../data/index.ts';

/** bigint columns: pg returns them as strings (int8 can exceed 2^53); we write numbers or strings. */
type Id = ColumnType<string, string | number, string | number>;
type GeneratedId = ColumnType<string, never, never>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string, T | string>;
/** A json column with a database default: optional on insert. */
type JsonWithDefault<T> = ColumnType<T, T | string | undefined, T | string>;

/** One slice of a gate decision (promotions.slice_scores). */
export interface SliceScoreRow {
  column: string;
  value: string;
  rows: number;
  candidate: number;
  champion: number;
  regression: number;
}

export type PartitionStatus = 'registered' | 'rejected' | 'superseded' | 'quarantined';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
/** The one job kind: a retrain trains a lineage's first model too. */
export type JobKind = 'retrain';
export type RunKind = 'initial' | 'retrain' | 'manual';
/** A stopped run stays `running` and is resumed; there is no cancelled run. */
export type RunStatus = 'running' | 'succeeded' | 'failed';
export type PromotionDecision = 'promoted' | 'rejected' | 'manual' | 'rollback' | 'fallback';
export type Task = 'regression' | 'binary';

export interface LineagesTable {
  id: GeneratedId;
  name: string;
  task: Task;
  config: Json<Record<string, unknown>>;
  config_sha256: string;
  batch_size: number;
  num_checkpoints: number;
  stop_point: number;
  train_examples: Id;
  steps_per_epoch: number;
  /** Early, log-spaced checkpoint steps (training.earlyCheckpoints), fixed when the lineage starts. */
  early_checkpoint_steps: Generated<number[]>;
  feature_stats: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
}

export interface PartitionFile {
  name: string;
  bytes: number;
}

export interface PartitionsTable {
  id: GeneratedId;
  /** The data location (dataDir) the partition was found in; a path is unique per source. '' until adopted (registered before sources existed). */
  source: string;
  path: string;
  keys: JsonWithDefault<Record<string, string | number>>;
  version: Generated<number>;
  sha256: string;
  files: JsonWithDefault<PartitionFile[]>;
  row_count: Id | null;
  schema: Json<Record<string, string>> | null;
  status: PartitionStatus;
  error: string | null;
  arrived_at: Timestamp;
  detected_at: Timestamp;
  registered_at: Generated<Date>;
  superseded_by: Id | null;
  /** Rows that cannot train (missing, NaN, infinite; a binary label not 0/1), counted at registration; null for rejected or older rows. */
  invalid_rows: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  /** The validation pass's statistics (data/partition-stats.ts); null for rejected or older rows. */
  stats: ColumnType<PartitionStats | null, PartitionStats | string | null | undefined, PartitionStats | string | null>;
  /** Anomalies against the lineages' schemas, each with the lineage it was found for. */
  anomalies: ColumnType<LineageAnomaly[] | null, LineageAnomaly[] | string | null | undefined, LineageAnomaly[] | string | null>;
  /** An operator's decision (freshet partitions accept | reject): who, when, why. */
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  decision_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface LineageAnomaly extends Anomaly {
  lineage: string;
}

export interface LineageSchemasTable {
  lineage_id: Id;
  schema: Json<DataSchema>;
  inferred_from: ColumnType<string[], string[] | undefined, string[]>;
  updated_by: string;
  updated_at: Generated<Date>;
}

export interface FeatureDriftTable {
  lineage_id: Id;
  column_name: string;
  /** The most drifted fresh partition (its value is the row's); null when there is none (value 0). */
  partition_id: ColumnType<string | null, string | number | null, string | number | null>;
  partition_path: string | null;
  method: 'psi' | 'jensen_shannon';
  value: number;
  threshold: number;
  drifted: boolean;
  reference_partitions: number;
  fresh_partitions: number;
  computed_at: Generated<Date>;
}

/** A partition directory with data files but no marker yet (or still changing, in stable mode). */
export interface WaitingPartitionsTable {
  source: string;
  path: string;
  files: number;
  bytes: ColumnType<string, string | number, string | number>;
  first_file_at: Timestamp;
  last_seen_at: Generated<Date>;
}

export interface JobsTable {
  id: GeneratedId;
  kind: JobKind;
  lineage_id: Id | null;
  payload: JsonWithDefault<Record<string, unknown>>;
  state: Generated<JobState>;
  singleton_key: string | null;
  /** Jobs with the same key never run at the same time (retrains of one lineage). */
  concurrency_key: string | null;
  /** What enqueued it: cron, arrival, manual. */
  trigger: ColumnType<string, string | undefined, string>;
  priority: Generated<number>;
  run_at: Generated<Date>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_at: Date | null;
  lease_expires_at: Date | null;
  heartbeat_at: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
  /** Checkpoints its runs recorded (bumped by the worker holding the lease). */
  progress: Generated<number>;
  /** `progress` when the current attempt claimed the job: an attempt that advanced it is not counted when its lease expires. */
  progress_at_claim: Generated<number>;
}

export interface CronSlotsTable {
  schedule: string;
  slot: Timestamp;
  claimed_by: string;
  claimed_at: Generated<Date>;
}

export interface RunsTable {
  id: GeneratedId;
  lineage_id: Id;
  job_id: Id | null;
  kind: RunKind;
  status: Generated<RunStatus>;
  seed: Id;
  backend: string;
  config: JsonWithDefault<Record<string, unknown>>;
  base_checkpoint_id: Id | null;
  base_selection: Json<Record<string, unknown>> | null;
  /** What the run added to its base's categorical vocabularies (one entry per grown column); null: nothing. */
  vocabulary_growth: Json<Array<{ column: string; from: number; to: number; added: string[] }>> | null;
  examples_available: Id | null;
  effective_stop_point: number | null;
  data_watermark: Id | null;
  target_virtual_epochs: number | null;
  invalid_rows: ColumnType<string, string | number | undefined, string | number>;
  result_checkpoint_id: Id | null;
  /** The run ended at its target while its validation loss was still falling (trainer/run/still-falling.ts); null: ended otherwise or unfinished. */
  still_falling: Generated<boolean | null>;
  /** The last check's relative fall of validation loss below the one before. */
  val_loss_gain: Generated<number | null>;
  started_at: Generated<Date>;
  finished_at: Date | null;
  error: string | null;
}

export interface RunPartitionsTable {
  run_id: Id;
  partition_id: Id;
  role: 'train' | 'replay' | 'eval' | 'gate';
}

export interface CheckpointsTable {
  id: GeneratedId;
  run_id: Id;
  lineage_id: Id;
  virtual_epoch: number;
  global_step: Id;
  store: Generated<'fs' | 'postgres' | 's3'>;
  uri: string;
  manifest_sha256: string;
  bytes: Id;
  train_loss: number | null;
  val_loss: number | null;
  metrics: JsonWithDefault<Record<string, number>>;
  created_at: Generated<Date>;
}

export interface LossPointsTable {
  run_id: Id;
  step: Id;
  loss: number;
  at: Generated<Date>;
}

export interface ModelVersionsTable {
  id: GeneratedId;
  lineage_id: Id;
  version: number;
  run_id: Id;
  checkpoint_id: Id;
  metric_name: string;
  eval_metric: number;
  data_watermark: Id | null;
  serving_uri: string | null;
  /** Set: the version serves this constant (a naive baseline, eval.fallback naive), not its checkpoint's network. */
  constant: number | null;
  /** Which naive baseline the constant is (median, mean, base rate); set exactly when constant is. */
  constant_name: string | null;
  created_at: Generated<Date>;
}

export interface ModelVersionPartitionsTable {
  model_version_id: Id;
  partition_id: Id;
}

export interface AliasesTable {
  lineage_id: Id;
  name: string;
  model_version_id: Id;
  updated_at: Generated<Date>;
}

export interface PromotionsTable {
  id: GeneratedId;
  lineage_id: Id;
  run_id: Id | null;
  candidate_checkpoint_id: Id | null;
  candidate_version_id: Id | null;
  champion_version_id: Id | null;
  decision: PromotionDecision;
  metric_name: string | null;
  candidate_metric: number | null;
  champion_metric: number | null;
  eval_partition_ids: Generated<string[]>;
  eval_rows: Id | null;
  base_policy: string | null;
  base_candidates: Json<unknown> | null;
  holdout: 'newest' | 'random' | null;
  naive_name: string | null;
  naive_value: number | null;
  naive_metric: number | null;
  naive_baselines: Json<unknown> | null;
  /** The candidate and the champion on each eval.slices value with enough gate rows (promotion/slice-scores.ts); null: no slices, or no champion. */
  slice_scores: ColumnType<SliceScoreRow[] | null, SliceScoreRow[] | string | null | undefined, SliceScoreRow[] | string | null>;
  improvement: number | null;
  improvement_low: number | null;
  improvement_high: number | null;
  confidence: number | null;
  bootstrap_blocks: number | null;
  reason: string;
  actor: Generated<string>;
  created_at: Generated<Date>;
}

export interface EventsTable {
  id: GeneratedId;
  at: Generated<Date>;
  kind: string;
  lineage_id: Id | null;
  partition_id: Id | null;
  run_id: Id | null;
  job_id: Id | null;
  actor: Generated<string>;
  message: string;
  data: JsonWithDefault<Record<string, unknown>>;
}

export interface EpochLossesTable {
  run_id: Id;
  virtual_epoch: number;
  global_step: Id;
  train_loss: number;
  val_loss: number | null;
  at: Generated<Date>;
}

export type OutboxKind = 'promoted' | 'rejected' | 'fallback' | 'manual' | 'rollback' | 'job_failed' | 'quarantined' | 'drift';

export interface OutboxTable {
  id: GeneratedId;
  /** The receiver's idempotency key. */
  event_id: Generated<string>;
  kind: OutboxKind;
  lineage: string | null;
  payload: JsonWithDefault<Record<string, unknown>>;
  created_at: Generated<Date>;
}

export interface WebhooksTable {
  url: string;
  since_id: Id;
  created_at: Generated<Date>;
}

export interface WebhookDeliveriesTable {
  outbox_id: Id;
  url: string;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  delivered_at: Date | null;
  last_error: string | null;
}

export interface ArtifactChunksTable {
  uri: string;
  file: string;
  chunk: number;
  data: Buffer;
}

/** The registry as Kysely sees it. */
export interface Database {
  lineages: LineagesTable;
  partitions: PartitionsTable;
  waiting_partitions: WaitingPartitionsTable;
  jobs: JobsTable;
  cron_slots: CronSlotsTable;
  runs: RunsTable;
  run_partitions: RunPartitionsTable;
  checkpoints: CheckpointsTable;
  loss_points: LossPointsTable;
  model_versions: ModelVersionsTable;
  model_version_partitions: ModelVersionPartitionsTable;
  aliases: AliasesTable;
  promotions: PromotionsTable;
  events: EventsTable;
  artifact_chunks: ArtifactChunksTable;
  epoch_losses: EpochLossesTable;
  outbox: OutboxTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  lineage_schemas: LineageSchemasTable;
  feature_drift: FeatureDriftTable;
}

/** The tables, in the order `freshet status` reports them. */
export const REGISTRY_TABLES = [
  'lineages',
  'partitions',
  'waiting_partitions',
  'runs',
  'checkpoints',
  'loss_points',
  'jobs',
  'model_versions',
  'aliases',
  'promotions',
  'events',
  'outbox',
] as const satisfies ReadonlyArray<keyof Database>;

export type Partition = Selectable<PartitionsTable>;
export type WaitingPartition = Selectable<WaitingPartitionsTable>;
export type NewPartition = Insertable<PartitionsTable>;
export type Lineage = Selectable<LineagesTable>;
export type NewLineage = Insertable<LineagesTable>;
export type Run = Selectable<RunsTable>;
export type NewRun = Insertable<RunsTable>;
export type RunUpdate = Updateable<RunsTable>;
export type Checkpoint = Selectable<CheckpointsTable>;
export type EpochLoss = Selectable<EpochLossesTable>;
export type NewCheckpoint = Insertable<CheckpointsTable>;
export type Job = Selectable<JobsTable>;
export type NewJob = Insertable<JobsTable>;
export type ModelVersion = Selectable<ModelVersionsTable>;
export type Promotion = Selectable<PromotionsTable>;
export type NewPromotion = Insertable<PromotionsTable>;
export type RegistryEvent = Selectable<EventsTable>;
export type NewRegistryEvent = Insertable<EventsTable>;
