// Checkpoints where the loss falls: a lineage's schedule of early, log-spaced checkpoint
// steps (training.earlyCheckpoints), fixed when the lineage starts, like steps_per_epoch.
// Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Global steps at which a run passing through them (the first run, or one from
    -- scratch) also writes a checkpoint: firstStep·2^k inside the first untilEpoch virtual
    -- epochs, epoch ends excluded. Empty for lineages started before 2026-12-02.
    ALTER TABLE lineages ADD COLUMN early_checkpoint_steps integer[] NOT NULL DEFAULT '{}';
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE lineages DROP COLUMN early_checkpoint_steps`.execute(db);
}
