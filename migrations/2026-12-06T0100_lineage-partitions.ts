// Many lineages in one registry (issue #26): a partition belongs to the lineage whose
// source it was found in. Until now every partition row was every lineage's (one daemon,
// one lineage, one data folder); with several lineages on several folders, `dt=2026-11-01`
// of one is not the other's. Existing rows go to the registry's one lineage (its name from
// `lineages`), or to `default` when there is none yet or several (a lineage named
// otherwise finds its folder's partitions again at its watcher's next scan and registers
// them as its own). Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE partitions ADD COLUMN lineage text;
    ALTER TABLE waiting_partitions ADD COLUMN lineage text;
    UPDATE partitions SET lineage = COALESCE((SELECT min(name) FROM lineages HAVING count(*) = 1), 'default');
    UPDATE waiting_partitions SET lineage = COALESCE((SELECT min(name) FROM lineages HAVING count(*) = 1), 'default');
    ALTER TABLE partitions ALTER COLUMN lineage SET NOT NULL;
    ALTER TABLE waiting_partitions ALTER COLUMN lineage SET NOT NULL;

    -- A path's versions, its one registered version and the duplicate check are per lineage.
    ALTER TABLE partitions DROP CONSTRAINT partitions_path_version_key;
    ALTER TABLE partitions ADD CONSTRAINT partitions_lineage_path_version_key UNIQUE (lineage, path, version);
    DROP INDEX partitions_one_registered_per_path;
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (lineage, path) WHERE status = 'registered';
    DROP INDEX partitions_path_version_idx;
    DROP INDEX partitions_registered_sha256_idx;
    CREATE INDEX partitions_registered_sha256_idx ON partitions (lineage, sha256) WHERE status = 'registered';
    DROP INDEX partitions_status_idx;
    CREATE INDEX partitions_lineage_status_idx ON partitions (lineage, status, id);

    ALTER TABLE waiting_partitions DROP CONSTRAINT waiting_partitions_pkey;
    ALTER TABLE waiting_partitions ADD PRIMARY KEY (lineage, path);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE waiting_partitions DROP CONSTRAINT waiting_partitions_pkey;
    ALTER TABLE waiting_partitions ADD PRIMARY KEY (path);
    DROP INDEX partitions_lineage_status_idx;
    CREATE INDEX partitions_status_idx ON partitions (status, id);
    DROP INDEX partitions_registered_sha256_idx;
    CREATE INDEX partitions_registered_sha256_idx ON partitions (sha256) WHERE status = 'registered';
    CREATE INDEX partitions_path_version_idx ON partitions (path, version DESC);
    DROP INDEX partitions_one_registered_per_path;
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (path) WHERE status = 'registered';
    ALTER TABLE partitions DROP CONSTRAINT partitions_lineage_path_version_key;
    ALTER TABLE partitions ADD CONSTRAINT partitions_path_version_key UNIQUE (path, version);
    ALTER TABLE waiting_partitions DROP COLUMN lineage;
    ALTER TABLE partitions DROP COLUMN lineage;
  `.execute(db);
}
