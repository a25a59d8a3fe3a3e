// Retries that count failures, not restarts; and the schema's unused values removed.
// Migrations never import application code (they must keep working as the code moves on).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- A job's progress: bumped by the worker holding it each time its run records a
    -- checkpoint. The claim remembers the value it found; a lease that expired after the
    -- attempt advanced (a kill after new checkpoints: preemption, an OOM kill) does not use
    -- up an attempt, while a crash loop that makes no progress still does.
    ALTER TABLE jobs ADD COLUMN progress integer NOT NULL DEFAULT 0 CHECK (progress >= 0);
    ALTER TABLE jobs ADD COLUMN progress_at_claim integer NOT NULL DEFAULT 0 CHECK (progress_at_claim >= 0);

    -- Job kind 'train' was never enqueued (a retrain job trains a lineage's first model too).
    UPDATE jobs SET kind = 'retrain' WHERE kind = 'train';
    ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
    ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind = 'retrain');

    -- Run status 'cancelled' was never set: a stopped run stays 'running' and is resumed.
    UPDATE runs SET status = 'failed', error = coalesce(error, 'cancelled') WHERE status = 'cancelled';
    ALTER TABLE runs DROP CONSTRAINT runs_status_check;
    ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('running', 'succeeded', 'failed'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE runs DROP CONSTRAINT runs_status_check;
    ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));
    ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
    ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('train', 'retrain'));
    ALTER TABLE jobs DROP COLUMN progress_at_claim;
    ALTER TABLE jobs DROP COLUMN progress;
  `.execute(db);
}
