// Many lineages in one registry (issue #26): a partition belongs to the source it was found
// in — the data location (`dataDir`) as configured. Until now there was one folder per
// registry, so every row was that folder's; with lineages on several folders,
// `dt=2026-11-01` of one is not the other's. Lineages that read the same folder share its
// partitions. Rows registered before this migration get source '' ("unsourced"): the
// migration cannot know the folder, and the watcher of a configuration with one data
// folder adopts them before its first listing (adoptUnsourcedPartitions). Migrations never
// import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE partitions ADD COLUMN source text NOT NULL DEFAULT '';
    ALTER TABLE partitions ALTER COLUMN source DROP DEFAULT;
    ALTER TABLE waiting_partitions ADD COLUMN source text NOT NULL DEFAULT '';
    ALTER TABLE waiting_partitions ALTER COLUMN source DROP DEFAULT;

    -- A path's versions, its one registered version and the duplicate check are per source.
    ALTER TABLE partitions DROP CONSTRAINT partitions_path_version_key;
    ALTER TABLE partitions ADD CONSTRAINT partitions_source_path_version_key UNIQUE (source, path, version);
    DROP INDEX partitions_one_registered_per_path;
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (source, path) WHERE status = 'registered';
    DROP INDEX partitions_path_version_idx;
    DROP INDEX partitions_registered_sha256_idx;
    CREATE INDEX partitions_registered_sha256_idx ON partitions (source, sha256) WHERE status = 'registered';
    DROP INDEX partitions_status_idx;
    CREATE INDEX partitions_source_status_idx ON partitions (source, status, id);

    ALTER TABLE waiting_partitions DROP CONSTRAINT waiting_partitions_pkey;
    ALTER TABLE waiting_partitions ADD PRIMARY KEY (source, path);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE waiting_partitions DROP CONSTRAINT waiting_partitions_pkey;
    ALTER TABLE waiting_partitions ADD PRIMARY KEY (path);
    DROP INDEX partitions_source_status_idx;
    CREATE INDEX partitions_status_idx ON partitions (status, id);
    DROP INDEX partitions_registered_sha256_idx;
    CREATE INDEX partitions_registered_sha256_idx ON partitions (sha256) WHERE status = 'registered';
    CREATE INDEX partitions_path_version_idx ON partitions (path, version DESC);
    DROP INDEX partitions_one_registered_per_path;
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (path) WHERE status = 'registered';
    ALTER TABLE partitions DROP CONSTRAINT partitions_source_path_version_key;
    ALTER TABLE partitions ADD CONSTRAINT partitions_path_version_key UNIQUE (path, version);
    ALTER TABLE waiting_partitions DROP COLUMN source;
    ALTER TABLE partitions DROP COLUMN source;
  `.execute(db);
}
