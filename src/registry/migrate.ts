// Schema migrations: Kysely's Migrator over the files in migrations/. Kysely takes a
// Postgres advisory lock around the run, so two processes migrating at once both succeed:
// the second waits, then finds nothing left to do.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResult } from 'kysely/migration';
import type { Registry } from './connect.ts';
import { coerceError } from '../core/errors.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const MIGRATION_TABLE = 'kysely_migration';

function provider(migrationFolder: string): FileMigrationProvider {
  return new FileMigrationProvider({ fs, path, migrationFolder });
}

/** Names of the migrations this code knows, in order (names start with a timestamp). */
export async function knownMigrations(migrationFolder = MIGRATIONS_DIR): Promise<string[]> {
  return Object.keys(await provider(migrationFolder).getMigrations()).sort();
}

/** Names of the migrations applied to the database, oldest first (empty on a fresh database). */
export async function appliedMigrations(db: Registry): Promise<string[]> {
  const exists = await sql<{ present: boolean }>`select to_regclass(${MIGRATION_TABLE}) is not null as present`.execute(db);
  if (!exists.rows[0]?.present) return [];
  const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  return rows.rows.map((row) => row.name);
}

/** The database was migrated by a newer freshet than this one. */
export class SchemaAheadError extends Error {
  override name = 'SchemaAheadError';
}

export interface MigrateResult {
  /** Migrations this call applied (empty when the schema was already current). */
  applied: string[];
  /** The newest migration now applied: the schema version. */
  version: string | null;
}

/**
 * Applies every pending migration. Refuses, before touching anything, a database that has
 * migrations this code does not know: it was migrated by a newer freshet.
 */
export async function migrateToLatest(db: Registry, migrationFolder = MIGRATIONS_DIR): Promise<MigrateResult> {
  await assertNotAhead(db, await knownMigrations(migrationFolder));
  const { error, results } = await new Migrator({ db, provider: provider(migrationFolder) }).migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(unknown)'} failed: ${coerceError(error).message ?? String(error)}`, { cause: error });
  }
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const all = await appliedMigrations(db);
  return { applied, version: all.at(-1) ?? null };
}

async function assertNotAhead(db: Registry, known: string[]): Promise<void> {
  const unknown = (await appliedMigrations(db)).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new SchemaAheadError(
      `the database schema is ahead of this freshet: it has migration(s) ${unknown.join(', ')} ` +
        `that this version does not know (it knows up to ${known.at(-1) ?? 'none'}). ` +
        'Run the newer freshet that migrated it, or restore a matching backup.',
    );
  }
}

/** Throws SchemaAheadError or a "not migrated" error unless the schema is exactly current. */
export async function assertSchemaCurrent(db: Registry, migrationFolder = MIGRATIONS_DIR): Promise<string> {
  const known = await knownMigrations(migrationFolder);
  await assertNotAhead(db, known);
  const applied = await appliedMigrations(db);
  const pending = known.filter((name) => !applied.includes(name));
  if (pending.length > 0) throw new Error(`the database schema is behind: run \`freshet migrate\` (pending: ${pending.join(', ')})`);
  return applied.at(-1)!;
}
