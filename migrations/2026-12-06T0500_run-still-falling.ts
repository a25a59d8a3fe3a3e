// Issue #29 (a training budget that fits the data): a run that reached its target while its
// validation loss was still falling says so — on the run, in the status and in the log —
// so that an undertrained model is not served without a word. Migrations never import
// application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- true: the run ended at its target, not by early stopping, and its last check was its
    -- best validation loss, below the check before (val_loss_gain, relative). null: the run
    -- ended otherwise, is unfinished, or ran before this column.
    ALTER TABLE runs ADD COLUMN still_falling boolean;
    ALTER TABLE runs ADD COLUMN val_loss_gain double precision;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE runs DROP COLUMN still_falling, DROP COLUMN val_loss_gain`.execute(db);
}
