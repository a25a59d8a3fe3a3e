// The forward gate: a run's gate rows (role 'gate', the newest fresh partitions kept out
// of its training), and on every decision the naive baselines and the paired bootstrap
// interval it was held to. Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- 'gate': a partition whose rows scored the candidate and the champion and that the
    -- run did not train on (eval.holdout newest). It stays fresh: the next retrain learns it.
    ALTER TABLE run_partitions DROP CONSTRAINT run_partitions_role_check;
    ALTER TABLE run_partitions ADD CONSTRAINT run_partitions_role_check CHECK (role IN ('train', 'replay', 'eval', 'gate'));

    -- Where the gate rows came from: 'newest' (a forward holdout) or 'random' (the
    -- validation rows of the fresh partitions); NULL for manual promotions and rollbacks.
    ALTER TABLE promotions ADD COLUMN holdout text CHECK (holdout IN ('newest', 'random'));
    -- The naive baseline the decision was held to (the best constant on the gate rows) and
    -- every one that was scored: [{name, value, metric}].
    ALTER TABLE promotions ADD COLUMN naive_name text;
    ALTER TABLE promotions ADD COLUMN naive_value double precision;
    ALTER TABLE promotions ADD COLUMN naive_metric double precision;
    ALTER TABLE promotions ADD COLUMN naive_baselines jsonb;
    -- The paired block bootstrap of the candidate's improvement over the champion
    -- (positive: better): point estimate and the (1 - confidence, confidence) quantiles.
    ALTER TABLE promotions ADD COLUMN improvement double precision;
    ALTER TABLE promotions ADD COLUMN improvement_low double precision;
    ALTER TABLE promotions ADD COLUMN improvement_high double precision;
    ALTER TABLE promotions ADD COLUMN confidence double precision;
    ALTER TABLE promotions ADD COLUMN bootstrap_blocks integer;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE promotions DROP COLUMN holdout, DROP COLUMN naive_name, DROP COLUMN naive_value, DROP COLUMN naive_metric,
      DROP COLUMN naive_baselines, DROP COLUMN improvement, DROP COLUMN improvement_low, DROP COLUMN improvement_high,
      DROP COLUMN confidence, DROP COLUMN bootstrap_blocks;
    DELETE FROM run_partitions WHERE role = 'gate';
    ALTER TABLE run_partitions DROP CONSTRAINT run_partitions_role_check;
    ALTER TABLE run_partitions ADD CONSTRAINT run_partitions_role_check CHECK (role IN ('train', 'replay', 'eval'));
  `.execute(db);
}
