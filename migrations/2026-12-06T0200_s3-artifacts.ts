// Checkpoints kept in S3 (issue #27): `checkpoints.store` may be 's3' (objects under the
// configuration's artifactsUri, the manifest written last). Migrations never import
// application code.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_store_check;
    ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_store_check CHECK (store IN ('fs', 'postgres', 's3'));
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE checkpoints DROP CONSTRAINT checkpoints_store_check;
    ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_store_check CHECK (store IN ('fs', 'postgres'));
  `.execute(db);
}
