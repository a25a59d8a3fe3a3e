// Issue #29 (slices): the gate also scores candidate and champion on each value of the
// eval.slices columns; every decision keeps those scores. Migrations never import
// application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- [{column, value, rows, candidate, champion, regression}], worst regression first
    -- (promotion/slice-scores.ts); null when no slice was configured or there was no champion.
    ALTER TABLE promotions ADD COLUMN slice_scores jsonb;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE promotions DROP COLUMN slice_scores`.execute(db);
}
