// A whole registry as data, and back: what `freshet backtest --save-warmup` keeps of its
// throwaway registry after the first model, so that `--from-warmup` (what `freshet tune`
// uses for policies that differ only after the warm-up) continues from exactly that state
// on a registry of its own. Logical, not a copy of the server's files: the embedded server
// ships no pg_dump, and a data directory cannot be copied while its server runs.
//
// Every table of the schema but Kysely's migration bookkeeping, each as one JSON array
// (json_agg: timestamps to the microsecond, float8 in the shortest form that reads back
// exactly, bytea as hex), and every sequence's position. Loading needs a superuser (the
// backtest's own embedded server): foreign keys and triggers are off for the session while
// the rows go in, so tables load in any order and no notification fires.
import { sql } from 'kysely';
import type { Registry } from './connect.ts';

export interface RegistrySnapshot {
  format: 1;
  /** The migrations applied when it was taken: it loads only into a registry at the same ones. */
  migrations: string[];
  tables: Array<{ name: string; rows: unknown[] }>;
  sequences: Array<{ name: string; lastValue: string }>;
}

const SKIPPED = /^kysely_migration/;

/** The schema's tables, by name (views are not tables). */
async function tableNames(db: Registry): Promise<string[]> {
  // Named statement: the base tables of the current schema, in name order.
  const { rows } = await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
  return rows.map((r) => r.name).filter((name) => !SKIPPED.test(name));
}

async function appliedMigrationNames(db: Registry): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.map((r) => r.name);
}

/** Reads every table and sequence (inside one repeatable-read transaction: one moment's state). */
export async function dumpRegistry(db: Registry): Promise<RegistrySnapshot> {
  return db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const tables: RegistrySnapshot['tables'] = [];
    for (const name of await tableNames(trx)) {
      // Named statement: one table's rows as a JSON array.
      const { rows } = await sql<{ rows: unknown[] | null }>`SELECT json_agg(t) AS rows FROM ${sql.table(name)} t`.execute(trx);
      tables.push({ name, rows: rows[0]?.rows ?? [] });
    }
    // Named statement: where each sequence stands (identity columns' too); never-used ones have no last_value.
    const { rows: sequences } = await sql<{ name: string; last_value: string | null }>`SELECT sequencename AS name, last_value::text FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename`.execute(trx);
    return {
      format: 1 as const,
      migrations: await appliedMigrationNames(trx),
      tables,
      sequences: sequences.filter((s) => s.last_value !== null).map((s) => ({ name: s.name, lastValue: s.last_value! })),
    };
  });
}

/**
 * Replaces the contents of a migrated registry with a snapshot's, in one transaction.
 * `rewrite`: text to replace in every text and jsonb value (the folders the snapshot's
 * rows name, such as a partition's source, moved to this registry's).
 */
export async function loadRegistry(db: Registry, snapshot: RegistrySnapshot, rewrite: ReadonlyArray<{ from: string; to: string }> = []): Promise<void> {
  if (snapshot.format !== 1) throw new Error(`registry snapshot format ${String(snapshot.format)} is not one this freshet reads`);
  const applied = await appliedMigrationNames(db);
  if (applied.join('\n') !== snapshot.migrations.join('\n')) {
    throw new Error(`the registry snapshot was taken at migration ${snapshot.migrations.at(-1) ?? '(none)'}; this registry is at ${applied.at(-1) ?? '(none)'}: a snapshot loads only into a registry at the same migrations`);
  }
  const names = await tableNames(db);
  const unknown = snapshot.tables.map((t) => t.name).filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new Error(`the registry snapshot has tables this registry does not: ${unknown.join(', ')}`);
  await db.transaction().execute(async (trx) => {
    // Foreign keys and triggers off until this transaction ends (a superuser's setting).
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    // Named statement: empty every table (the migrations' own rows included) before the snapshot's go in.
    if (names.length > 0) await sql`TRUNCATE ${sql.join(names.map((name) => sql.table(name)))}`.execute(trx);
    for (const { name, rows } of snapshot.tables) {
      if (rows.length === 0) continue;
      // Named statement: a table's rows from their JSON, ids as they were (identity columns are GENERATED ALWAYS).
      await sql`INSERT INTO ${sql.table(name)} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${sql.table(name)}, ${JSON.stringify(rows)}::json)`.execute(trx);
    }
    for (const { name, lastValue } of snapshot.sequences) {
      // Named statement: the sequence where it stood, so the next id is the one the snapshot's registry would have given.
      await sql`SELECT setval(${name}::regclass, ${lastValue}::bigint, true)`.execute(trx);
    }
    for (const { from, to } of rewrite) await rewriteText(trx, names, from, to);
  });
}

/** Every text and jsonb value holding `from`, with `to` in its place. */
async function rewriteText(db: Registry, tables: readonly string[], from: string, to: string): Promise<void> {
  // Named statement: the text and jsonb columns of the schema's tables.
  const { rows: columns } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    SELECT table_name, column_name, data_type FROM information_schema.columns
    WHERE table_schema = current_schema() AND data_type IN ('text', 'jsonb', 'character varying')`.execute(db);
  for (const { table_name: table, column_name: column, data_type: type } of columns) {
    if (!tables.includes(table)) continue;
    const value = sql.ref(column);
    // Named statements: replace the folder in the values that hold it (jsonb through its text, which keeps it valid JSON for a folder path).
    if (type === 'jsonb') await sql`UPDATE ${sql.table(table)} SET ${value} = replace(${value}::text, ${from}, ${to})::jsonb WHERE strpos(${value}::text, ${from}) > 0`.execute(db);
    else await sql`UPDATE ${sql.table(table)} SET ${value} = replace(${value}, ${from}, ${to}) WHERE strpos(${value}, ${from}) > 0`.execute(db);
  }
}
