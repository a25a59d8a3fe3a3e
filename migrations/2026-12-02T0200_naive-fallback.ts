// eval.fallback naive: a model version that serves a constant (the naive baseline) instead
// of its checkpoint's network, and the decision that makes it the champion.
// Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Set: this version predicts this constant for every row (its name says which naive
    -- baseline: median, mean, base rate). checkpoint_id then names the rejected candidate
    -- whose training window the constant was computed over (provenance, and the run the
    -- lineage continues from).
    ALTER TABLE model_versions ADD COLUMN constant double precision;
    ALTER TABLE model_versions ADD COLUMN constant_name text;
    ALTER TABLE model_versions ADD CONSTRAINT model_versions_constant_named CHECK ((constant IS NULL) = (constant_name IS NULL));

    -- 'fallback': the gate rejected the run's candidate and, the champion doing no better
    -- than the naive baseline on the gate rows, made that constant the champion. A second
    -- row beside the run's 'rejected' one (the one-gate-decision index covers only
    -- promoted and rejected).
    ALTER TABLE promotions DROP CONSTRAINT promotions_decision_check;
    ALTER TABLE promotions ADD CONSTRAINT promotions_decision_check CHECK (decision IN ('promoted', 'rejected', 'manual', 'rollback', 'fallback'));
  `.execute(db);
  await championHistoryView(db, ['promoted', 'manual', 'rollback', 'fallback']);
}

export async function down(db: Kysely<any>): Promise<void> {
  await championHistoryView(db, ['promoted', 'manual', 'rollback']);
  await sql`
    DELETE FROM promotions WHERE decision = 'fallback';
    ALTER TABLE promotions DROP CONSTRAINT promotions_decision_check;
    ALTER TABLE promotions ADD CONSTRAINT promotions_decision_check CHECK (decision IN ('promoted', 'rejected', 'manual', 'rollback'));
    ALTER TABLE model_versions DROP CONSTRAINT model_versions_constant_named;
    ALTER TABLE model_versions DROP COLUMN constant, DROP COLUMN constant_name;
  `.execute(db);
}

/**
 * v_champion_history (2026-11-26T0300_views) over the given decisions: every change of
 * champion. Its columns are a contract (docs/definitions.md): unchanged here.
 */
async function championHistoryView(db: Kysely<any>, decisions: string[]): Promise<void> {
  await sql`
    CREATE OR REPLACE VIEW v_champion_history AS
    SELECT l.name AS lineage, p.id AS promotion_id, p.created_at AS at, p.decision,
           nv.version AS version, ov.version AS previous_version,
           p.metric_name, p.candidate_metric AS metric, p.champion_metric AS previous_metric,
           p.eval_rows, p.base_policy, p.actor, p.reason, p.run_id
    FROM promotions p
    JOIN lineages l ON l.id = p.lineage_id
    JOIN model_versions nv ON nv.id = p.candidate_version_id
    LEFT JOIN model_versions ov ON ov.id = p.champion_version_id
    WHERE p.decision IN (${sql.join(decisions.map((d) => sql.lit(d)))})
  `.execute(db);
}
