// A new user's first hour (issue #24): partitions waiting for their marker, invalid rows per
// partition, and a path whose content returns to an earlier version. Migrations never
// import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Content that returns to an earlier version (a file restored from a backup) is a new
    -- version that supersedes the current one; (path, sha256) unique forbade that and the
    -- watcher ignored the change. (path, version) stays unique.
    ALTER TABLE partitions DROP CONSTRAINT IF EXISTS partitions_path_sha256_key;
    CREATE INDEX partitions_path_version_idx ON partitions (path, version DESC);
    -- A registration asks whether another path holds the same content (a duplicate copy):
    -- by content hash among the registered rows, an index lookup however many there are.
    CREATE INDEX partitions_registered_sha256_idx ON partitions (sha256) WHERE status = 'registered';

    -- A rejected version that a fixed one supersedes keeps its error (why it was rejected):
    -- rejected needs an error, registered has none, superseded may have either.
    ALTER TABLE partitions DROP CONSTRAINT partitions_check;
    ALTER TABLE partitions ADD CONSTRAINT partitions_error_by_status CHECK ((status <> 'rejected' OR error IS NOT NULL) AND (status <> 'registered' OR error IS NULL));

    -- Rows of a registered partition that cannot train (a missing, NaN or infinite value;
    -- a binary label other than 0/1), counted when it registers. NULL: registered before
    -- this column existed, or rejected.
    ALTER TABLE partitions ADD COLUMN invalid_rows bigint CHECK (invalid_rows >= 0);

    -- Partition directories with data files but no completion marker yet (marker mode), or
    -- still changing (stable mode), as the watchers last saw them. A row goes when the
    -- partition registers (same transaction) or a scan no longer finds it waiting.
    CREATE TABLE waiting_partitions (
      path            text PRIMARY KEY,
      files           integer NOT NULL CHECK (files >= 0),
      bytes           bigint NOT NULL CHECK (bytes >= 0),
      first_file_at   timestamptz NOT NULL,  -- the oldest data file's mtime: how long it has waited
      last_seen_at    timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE waiting_partitions;
    ALTER TABLE partitions DROP COLUMN invalid_rows;
    DROP INDEX partitions_registered_sha256_idx;
    DROP INDEX partitions_path_version_idx;
    ALTER TABLE partitions DROP CONSTRAINT partitions_error_by_status;
    ALTER TABLE partitions ADD CONSTRAINT partitions_check CHECK ((status = 'rejected') = (error IS NOT NULL));
    ALTER TABLE partitions ADD CONSTRAINT partitions_path_sha256_key UNIQUE (path, sha256);
  `.execute(db);
}
