// The registry: every table of docs/architecture.md, with the constraints that protect the data.
// Migrations never import application code (they must keep working as the code moves on).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- A lineage is a model family trained on one configuration. steps_per_epoch is fixed
    -- when the lineage starts and never recomputed as data grows (virtual epochs).
    CREATE TABLE lineages (
      id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name             text NOT NULL UNIQUE,
      task             text NOT NULL CHECK (task IN ('regression', 'binary')),
      config           jsonb NOT NULL,
      config_sha256    text NOT NULL,
      batch_size       integer NOT NULL CHECK (batch_size > 0),
      num_checkpoints  integer NOT NULL CHECK (num_checkpoints > 0),
      stop_point       double precision NOT NULL CHECK (stop_point > 0),
      train_examples   bigint NOT NULL CHECK (train_examples > 0),
      steps_per_epoch  integer NOT NULL CHECK (steps_per_epoch > 0),
      feature_stats    jsonb NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now()
    );

    -- One row per partition version. The same content twice is one row (path, sha256);
    -- at most one registered version per path at a time.
    CREATE TABLE partitions (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      path            text NOT NULL,
      keys            jsonb NOT NULL DEFAULT '{}',
      version         integer NOT NULL DEFAULT 1 CHECK (version > 0),
      sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      files           jsonb NOT NULL DEFAULT '[]',
      row_count       bigint CHECK (row_count >= 0),
      schema          jsonb,
      status          text NOT NULL CHECK (status IN ('registered', 'rejected', 'superseded')),
      error           text,
      arrived_at      timestamptz NOT NULL,
      detected_at     timestamptz NOT NULL,
      registered_at   timestamptz NOT NULL DEFAULT now(),
      superseded_by   bigint REFERENCES partitions(id),
      UNIQUE (path, sha256),
      UNIQUE (path, version),
      CHECK ((status = 'rejected') = (error IS NOT NULL))
    );
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (path) WHERE status = 'registered';
    CREATE INDEX partitions_status_idx ON partitions (status, id);

    CREATE TABLE jobs (
      id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind              text NOT NULL CHECK (kind IN ('train', 'retrain')),
      lineage_id        bigint REFERENCES lineages(id),
      payload           jsonb NOT NULL DEFAULT '{}',
      state             text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
      -- Idempotent enqueue: one live job per key (e.g. retrain:<lineage>:<watermark>).
      singleton_key     text,
      priority          integer NOT NULL DEFAULT 0,
      run_at            timestamptz NOT NULL DEFAULT now(),
      attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      max_attempts      integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
      locked_by         text,
      locked_at         timestamptz,
      lease_expires_at  timestamptz,
      heartbeat_at      timestamptz,
      last_error        text,
      created_at        timestamptz NOT NULL DEFAULT now(),
      finished_at       timestamptz,
      CHECK ((state = 'running') = (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL))
    );
    CREATE UNIQUE INDEX jobs_live_singleton ON jobs (singleton_key)
      WHERE singleton_key IS NOT NULL AND state IN ('queued', 'running');
    CREATE INDEX jobs_claimable_idx ON jobs (priority DESC, run_at, id) WHERE state = 'queued';

    -- One row per cron slot: only the process whose insert wins enqueues for that slot.
    CREATE TABLE cron_slots (
      schedule    text NOT NULL,
      slot        timestamptz NOT NULL,
      claimed_by  text NOT NULL,
      claimed_at  timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (schedule, slot)
    );

    CREATE TABLE runs (
      id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      lineage_id             bigint NOT NULL REFERENCES lineages(id),
      job_id                 bigint REFERENCES jobs(id),
      kind                   text NOT NULL CHECK (kind IN ('initial', 'retrain', 'manual')),
      status                 text NOT NULL DEFAULT 'running'
                             CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
      seed                   bigint NOT NULL,
      backend                text NOT NULL,
      config                 jsonb NOT NULL DEFAULT '{}',
      base_checkpoint_id     bigint,
      -- The base-checkpoint policy's decision: policy, candidates, scores, plateau numbers.
      base_selection         jsonb,
      examples_available     bigint CHECK (examples_available >= 0),
      effective_stop_point   double precision,
      data_watermark         bigint,
      -- Virtual epochs this run trains (it stops earlier when early stopping fires).
      target_virtual_epochs  integer CHECK (target_virtual_epochs > 0),
      -- Rows skipped for missing, NaN or infinite values.
      invalid_rows           bigint NOT NULL DEFAULT 0 CHECK (invalid_rows >= 0),
      -- The checkpoint the run ended with (the best one when restoreBestWeights is on).
      result_checkpoint_id   bigint,
      started_at             timestamptz NOT NULL DEFAULT now(),
      finished_at            timestamptz,
      error                  text,
      CHECK ((status = 'running') = (finished_at IS NULL))
    );
    CREATE INDEX runs_lineage_idx ON runs (lineage_id, id);

    -- Which partitions a run read, and in which role.
    CREATE TABLE run_partitions (
      run_id        bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      partition_id  bigint NOT NULL REFERENCES partitions(id),
      role          text NOT NULL CHECK (role IN ('train', 'replay', 'eval')),
      PRIMARY KEY (run_id, partition_id, role)
    );

    -- A row exists only once its files were renamed into place (see the trainer).
    CREATE TABLE checkpoints (
      id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id            bigint NOT NULL REFERENCES runs(id),
      lineage_id        bigint NOT NULL REFERENCES lineages(id),
      virtual_epoch     integer NOT NULL CHECK (virtual_epoch >= 0),
      global_step       bigint NOT NULL CHECK (global_step >= 0),
      store             text NOT NULL DEFAULT 'fs' CHECK (store IN ('fs', 'postgres')),
      uri               text NOT NULL,
      manifest_sha256   text NOT NULL,
      bytes             bigint NOT NULL CHECK (bytes >= 0),
      train_loss        double precision,
      val_loss          double precision,
      metrics           jsonb NOT NULL DEFAULT '{}',
      created_at        timestamptz NOT NULL DEFAULT now(),
      UNIQUE (run_id, global_step)
    );
    CREATE INDEX checkpoints_lineage_idx ON checkpoints (lineage_id, id);
    ALTER TABLE runs ADD CONSTRAINT runs_base_checkpoint_fk
      FOREIGN KEY (base_checkpoint_id) REFERENCES checkpoints(id);
    ALTER TABLE runs ADD CONSTRAINT runs_result_checkpoint_fk
      FOREIGN KEY (result_checkpoint_id) REFERENCES checkpoints(id);

    CREATE TABLE loss_points (
      run_id  bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step    bigint NOT NULL CHECK (step >= 0),
      loss    double precision NOT NULL,
      at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, step)
    );

    CREATE TABLE model_versions (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      lineage_id      bigint NOT NULL REFERENCES lineages(id),
      version         integer NOT NULL CHECK (version > 0),
      run_id          bigint NOT NULL REFERENCES runs(id),
      checkpoint_id   bigint NOT NULL REFERENCES checkpoints(id),
      metric_name     text NOT NULL,
      eval_metric     double precision NOT NULL,
      data_watermark  bigint,
      serving_uri     text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (lineage_id, version),
      UNIQUE (lineage_id, id)
    );

    -- Exactly the partitions a version was trained on.
    CREATE TABLE model_version_partitions (
      model_version_id  bigint NOT NULL REFERENCES model_versions(id),
      partition_id      bigint NOT NULL REFERENCES partitions(id),
      PRIMARY KEY (model_version_id, partition_id)
    );

    -- MLflow-like aliases; the primary key makes 'champion' unique per lineage, and the
    -- composite foreign key keeps an alias from pointing at another lineage's version.
    CREATE TABLE aliases (
      lineage_id        bigint NOT NULL REFERENCES lineages(id),
      name              text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]*$'),
      model_version_id  bigint NOT NULL,
      updated_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (lineage_id, name),
      FOREIGN KEY (lineage_id, model_version_id) REFERENCES model_versions (lineage_id, id)
    );

    -- Every decision, promoted or not, with both metrics and the eval set behind them.
    CREATE TABLE promotions (
      id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      lineage_id             bigint NOT NULL REFERENCES lineages(id),
      run_id                 bigint REFERENCES runs(id),
      candidate_checkpoint_id bigint REFERENCES checkpoints(id),
      candidate_version_id   bigint REFERENCES model_versions(id),
      champion_version_id    bigint REFERENCES model_versions(id),
      decision               text NOT NULL CHECK (decision IN ('promoted', 'rejected', 'manual', 'rollback')),
      metric_name            text,
      candidate_metric       double precision,
      champion_metric        double precision,
      eval_partition_ids     bigint[] NOT NULL DEFAULT '{}',
      eval_rows              bigint CHECK (eval_rows >= 0),
      base_policy            text,
      base_candidates        jsonb,
      reason                 text NOT NULL,
      actor                  text NOT NULL DEFAULT 'freshet',
      created_at             timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX promotions_lineage_idx ON promotions (lineage_id, id);

    -- Audit trail: append-only.
    CREATE TABLE events (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at            timestamptz NOT NULL DEFAULT now(),
      kind          text NOT NULL,
      lineage_id    bigint REFERENCES lineages(id),
      partition_id  bigint REFERENCES partitions(id),
      run_id        bigint REFERENCES runs(id),
      job_id        bigint REFERENCES jobs(id),
      actor         text NOT NULL DEFAULT 'freshet',
      message       text NOT NULL,
      data          jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_kind_idx ON events (kind, id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE events, promotions, aliases, model_version_partitions, model_versions,
      loss_points, checkpoints, run_partitions, runs, cron_slots, jobs, partitions, lineages CASCADE
  `.execute(db);
}
