// Checkpoint selection and promotion: the loss curve kept whole, and one gate decision per
// candidate run. Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- The training-loss curve, one row per completed virtual epoch. Checkpoint retention
    -- deletes checkpoints, never these: plateau detection needs the whole curve.
    CREATE TABLE epoch_losses (
      run_id         bigint NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      virtual_epoch  integer NOT NULL CHECK (virtual_epoch > 0),
      global_step    bigint NOT NULL CHECK (global_step > 0),
      train_loss     double precision NOT NULL,
      val_loss       double precision,
      at             timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, virtual_epoch)
    );
    INSERT INTO epoch_losses (run_id, virtual_epoch, global_step, train_loss, val_loss, at)
      SELECT c.run_id, c.virtual_epoch, c.global_step, c.train_loss, c.val_loss, c.created_at
      FROM checkpoints c JOIN lineages l ON l.id = c.lineage_id
      WHERE c.virtual_epoch > 0 AND c.train_loss IS NOT NULL AND c.global_step = c.virtual_epoch::bigint * l.steps_per_epoch
      ON CONFLICT DO NOTHING;

    -- The gate decides once per candidate run, even when its job is re-run after a crash.
    CREATE UNIQUE INDEX promotions_one_gate_decision_per_run ON promotions (run_id)
      WHERE decision IN ('promoted', 'rejected');
    -- One version per source checkpoint: promoting the same candidate twice is one version.
    ALTER TABLE model_versions ADD CONSTRAINT model_versions_checkpoint_unique UNIQUE (checkpoint_id);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE model_versions DROP CONSTRAINT model_versions_checkpoint_unique;
    DROP INDEX promotions_one_gate_decision_per_run;
    DROP TABLE epoch_losses;
  `.execute(db);
}
