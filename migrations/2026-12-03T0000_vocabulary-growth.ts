// Vocabularies that grow (issue #16): what a run added to its categorical columns'
// vocabularies. Migrations never import application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Per categorical column whose vocabulary this run grew (from its base checkpoint's):
    -- {"column": …, "from": size, "to": size, "added": [values]}. NULL: the run grew none
    -- (a first run, a lineage without categorical columns, or nothing became frequent).
    ALTER TABLE runs ADD COLUMN vocabulary_growth jsonb;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE runs DROP COLUMN vocabulary_growth`.execute(db);
}
