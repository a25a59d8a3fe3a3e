// A partition checked before it trains (issue #28): statistics per partition, a schema per
// lineage, quarantine with an operator's decision, and drift against the champion's
// training window. Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- quarantined: registered content that broke its lineage's schema (validation.mode
    -- block): kept, never trained or gated on, until someone accepts or rejects it. Its
    -- error says why (column, expectation, observed).
    ALTER TABLE partitions DROP CONSTRAINT partitions_status_check;
    ALTER TABLE partitions ADD CONSTRAINT partitions_status_check CHECK (status IN ('registered', 'rejected', 'superseded', 'quarantined'));
    ALTER TABLE partitions DROP CONSTRAINT partitions_error_by_status;
    ALTER TABLE partitions ADD CONSTRAINT partitions_error_by_status CHECK ((status NOT IN ('rejected', 'quarantined') OR error IS NOT NULL) AND (status <> 'registered' OR error IS NULL));
    -- A path holds one live version: registered or quarantined.
    DROP INDEX partitions_one_registered_per_path;
    CREATE UNIQUE INDEX partitions_one_live_per_path ON partitions (source, path) WHERE status IN ('registered', 'quarantined');

    -- The statistics of the validation pass (data/partition-stats.ts; read them through the
    -- view below), the anomalies found against the lineages' schemas, and an operator's
    -- decision on a quarantined (or any) partition: who, when, why.
    ALTER TABLE partitions
      ADD COLUMN stats jsonb,
      ADD COLUMN anomalies jsonb,
      ADD COLUMN decided_by text,
      ADD COLUMN decided_at timestamptz,
      ADD COLUMN decision_reason text;

    -- One row per partition and column: what SQL users and dashboards read.
    CREATE VIEW partition_column_stats AS
    SELECT p.id AS partition_id, p.source, p.path, p.version, p.status, p.row_count,
           c.key AS column_name,
           c.value->>'kind' AS kind,
           (c.value->>'missing')::bigint AS missing,
           CASE WHEN p.row_count > 0 THEN (c.value->>'missing')::double precision / p.row_count END AS missing_share,
           (c.value->>'sampled')::bigint AS sampled,
           (c.value->>'min')::double precision AS min,
           (c.value->>'max')::double precision AS max,
           (c.value->>'mean')::double precision AS mean,
           (c.value->>'std')::double precision AS stddev,
           (c.value->'quantiles'->>1)::double precision AS p05,
           (c.value->'quantiles'->>10)::double precision AS p50,
           (c.value->'quantiles'->>19)::double precision AS p95,
           (c.value->>'distinct')::bigint AS distinct_values,
           c.value->'top' AS top_values
    FROM partitions p, jsonb_each(p.stats->'columns') c
    WHERE p.stats IS NOT NULL;

    -- A lineage's data schema (data/data-schema.ts), inferred from the partitions of its
    -- first model or edited by someone.
    CREATE TABLE lineage_schemas (
      lineage_id     bigint PRIMARY KEY REFERENCES lineages(id),
      schema         jsonb NOT NULL,
      inferred_from  bigint[] NOT NULL DEFAULT '{}',
      updated_by     text NOT NULL,
      updated_at     timestamptz NOT NULL DEFAULT now()
    );

    -- The latest drift per lineage and column: each fresh partition against the champion's
    -- training partitions (data/drift.ts); the row holds the most drifted one, or none
    -- (value 0) when the champion has learned every partition.
    CREATE TABLE feature_drift (
      lineage_id     bigint NOT NULL REFERENCES lineages(id),
      column_name    text NOT NULL,
      partition_id   bigint REFERENCES partitions(id),
      partition_path text,
      method         text NOT NULL CHECK (method IN ('psi', 'jensen_shannon')),
      value          double precision NOT NULL,
      threshold      double precision NOT NULL,
      drifted        boolean NOT NULL,
      reference_partitions integer NOT NULL,
      fresh_partitions integer NOT NULL,
      computed_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (lineage_id, column_name)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE feature_drift;
    DROP TABLE lineage_schemas;
    DROP VIEW partition_column_stats;
    ALTER TABLE partitions DROP COLUMN stats, DROP COLUMN anomalies, DROP COLUMN decided_by, DROP COLUMN decided_at, DROP COLUMN decision_reason;
    UPDATE partitions SET status = 'rejected' WHERE status = 'quarantined';
    DROP INDEX partitions_one_live_per_path;
    CREATE UNIQUE INDEX partitions_one_registered_per_path ON partitions (source, path) WHERE status = 'registered';
    ALTER TABLE partitions DROP CONSTRAINT partitions_error_by_status;
    ALTER TABLE partitions ADD CONSTRAINT partitions_error_by_status CHECK ((status <> 'rejected' OR error IS NOT NULL) AND (status <> 'registered' OR error IS NULL));
    ALTER TABLE partitions DROP CONSTRAINT partitions_status_check;
    ALTER TABLE partitions ADD CONSTRAINT partitions_status_check CHECK (status IN ('registered', 'rejected', 'superseded'));
  `.execute(db);
}
