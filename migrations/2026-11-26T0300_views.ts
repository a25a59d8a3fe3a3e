// Views for people who query the registry with SQL (and for the Grafana PostgreSQL panels).
// Names and columns are a contract (docs/definitions.md): add columns, never rename or drop them.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- The training-loss curve of every run, one row per completed virtual epoch, with the
    -- checkpoint at that point when retention kept it, and whether a later run started
    -- from it (the chosen base) or the run ended on it (its result).
    CREATE VIEW v_loss_curve AS
    SELECT l.name AS lineage, r.id AS run_id, r.kind AS run_kind, r.status AS run_status,
           e.virtual_epoch, e.global_step, e.train_loss, e.val_loss, e.at,
           c.id AS checkpoint_id,
           EXISTS (SELECT 1 FROM runs later WHERE later.base_checkpoint_id = c.id) AS chosen_as_base,
           (r.result_checkpoint_id IS NOT NULL AND r.result_checkpoint_id = c.id) AS is_result
    FROM epoch_losses e
    JOIN runs r ON r.id = e.run_id
    JOIN lineages l ON l.id = r.lineage_id
    LEFT JOIN checkpoints c ON c.run_id = e.run_id AND c.global_step = e.global_step;

    -- Every change of champion: gate promotions, manual promotions and rollbacks, with the
    -- version before and after, the metric, who and why.
    CREATE VIEW v_champion_history AS
    SELECT l.name AS lineage, p.id AS promotion_id, p.created_at AS at, p.decision,
           nv.version AS version, ov.version AS previous_version,
           p.metric_name, p.candidate_metric AS metric, p.champion_metric AS previous_metric,
           p.eval_rows, p.base_policy, p.actor, p.reason, p.run_id
    FROM promotions p
    JOIN lineages l ON l.id = p.lineage_id
    JOIN model_versions nv ON nv.id = p.candidate_version_id
    LEFT JOIN model_versions ov ON ov.id = p.champion_version_id
    WHERE p.decision IN ('promoted', 'manual', 'rollback');

    -- Which partitions trained which model version (its run's and its ancestors').
    CREATE VIEW v_partition_lineage AS
    SELECT l.name AS lineage, mv.version, mv.id AS model_version_id,
           (a.model_version_id IS NOT NULL) AS is_champion,
           p.id AS partition_id, p.path, p.arrived_at, p.row_count
    FROM model_version_partitions mvp
    JOIN model_versions mv ON mv.id = mvp.model_version_id
    JOIN lineages l ON l.id = mv.lineage_id
    JOIN partitions p ON p.id = mvp.partition_id
    LEFT JOIN aliases a ON a.model_version_id = mv.id AND a.name = 'champion';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP VIEW v_partition_lineage, v_champion_history, v_loss_curve`.execute(db);
}
