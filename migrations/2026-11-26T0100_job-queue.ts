// The job queue's concurrency rules and the postgres artifact store.
// Migrations never import application code (they must keep working as the code moves on).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Jobs that must not run at the same time share a concurrency key (retrains of one
    -- lineage: they write the same lineage's checkpoints and promote its champion). The
    -- index is the guarantee; the claim statement also skips such jobs so that it rarely
    -- has to lean on it.
    ALTER TABLE jobs ADD COLUMN concurrency_key text;
    CREATE UNIQUE INDEX jobs_one_running_per_concurrency_key ON jobs (concurrency_key)
      WHERE concurrency_key IS NOT NULL AND state = 'running';
    -- Leases that can expire: the claim statement looks for them.
    CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
    -- Cron-enqueued jobs name their slot; a slot enqueues at most once (the cron_slots row
    -- decides the winner, this keeps the job side honest too).
    ALTER TABLE jobs ADD COLUMN trigger text NOT NULL DEFAULT 'manual';

    -- The retrain policy asks, per partition, whether a finished run trained on it.
    CREATE INDEX run_partitions_partition_idx ON run_partitions (partition_id);

    -- A wake-up hint for idle workers whenever a job becomes claimable. Polling stays the
    -- truth: a worker that misses this (listener reconnecting) finds the job at its next poll.
    CREATE FUNCTION freshet_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.state = 'queued' THEN
        PERFORM pg_notify('freshet_jobs', NEW.id::text);
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF state ON jobs
      FOR EACH ROW EXECUTE FUNCTION freshet_notify_job();

    -- The postgres artifact store: a checkpoint's files in chunks, written in the same
    -- transaction as its checkpoints row, so that a worker on another machine can read it.
    CREATE TABLE artifact_chunks (
      uri    text NOT NULL,
      file   text NOT NULL,
      chunk  integer NOT NULL CHECK (chunk >= 0),
      data   bytea NOT NULL,
      PRIMARY KEY (uri, file, chunk)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE artifact_chunks;
    DROP INDEX run_partitions_partition_idx;
    DROP TRIGGER jobs_notify ON jobs;
    DROP FUNCTION freshet_notify_job();
    ALTER TABLE jobs DROP COLUMN trigger, DROP COLUMN concurrency_key;
  `.execute(db);
}
