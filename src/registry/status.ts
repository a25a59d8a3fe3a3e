// The registry summary behind `freshet status`: schema version and row counts.
import { sql } from 'kysely';
import type { Registry } from './connect.ts';
import { appliedMigrations, knownMigrations } from './migrate.ts';
import { REGISTRY_TABLES } from './schema.ts';

export interface RegistryStatus {
  /** The newest applied migration, or null on an empty database. */
  schemaVersion: string | null;
  /** Migrations this code knows that the database has not applied. */
  pendingMigrations: string[];
  /** Row count per registry table (absent tables are left out). */
  tables: Record<string, number>;
}

export async function registryStatus(db: Registry): Promise<RegistryStatus> {
  const applied = await appliedMigrations(db);
  const known = await knownMigrations();
  const tables: Record<string, number> = {};
  if (applied.length > 0) {
    const counts = await sql<{ name: string; n: string }>`
      ${sql.join(
        REGISTRY_TABLES.map((table) => sql`select ${table}::text as name, count(*) as n from ${sql.table(table)}`),
        sql` union all `,
      )}`.execute(db);
    for (const row of counts.rows) tables[row.name] = Number(row.n);
  }
  return {
    schemaVersion: applied.at(-1) ?? null,
    pendingMigrations: known.filter((name) => !applied.includes(name)),
    tables,
  };
}
