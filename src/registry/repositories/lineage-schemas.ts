// A lineage's data schema (data/data-schema.ts): inferred once from the partitions of its
// first model, replaced when someone edits it or asks for it to be inferred again.
import { sql } from 'kysely';
import { inferSchema, type DataSchema, type PartitionStats } from '../../data/index.ts';
import type { Registry } from '../connect.ts';
import { findLineageByName } from './lineages.ts';

export interface StoredSchema {
  lineage: string;
  schema: DataSchema;
  inferredFrom: string[];
  updatedBy: string;
  updatedAt: Date;
}

export async function getLineageSchema(db: Registry, lineage: string): Promise<StoredSchema | undefined> {
  const row = await db
    .selectFrom('lineage_schemas as s')
    .innerJoin('lineages as l', 'l.id', 's.lineage_id')
    .select(['l.name', 's.schema', 's.inferred_from', 's.updated_by', 's.updated_at'])
    .where('l.name', '=', lineage)
    .executeTakeFirst();
  return row && { lineage: row.name, schema: row.schema, inferredFrom: row.inferred_from.map(String), updatedBy: row.updated_by, updatedAt: row.updated_at };
}

/** Stores (or replaces) a lineage's schema. Throws when the lineage does not exist yet. */
export async function saveLineageSchema(db: Registry, lineage: string, schema: DataSchema, by: string, inferredFrom: readonly string[] = []): Promise<void> {
  const row = await findLineageByName(db, lineage);
  if (!row) throw new Error(`lineage ${lineage} does not exist yet: it is created by its first retrain`);
  await db
    .insertInto('lineage_schemas')
    .values({ lineage_id: row.id, schema: JSON.stringify(schema), inferred_from: [...inferredFrom], updated_by: by })
    .onConflict((oc) => oc.column('lineage_id').doUpdateSet({ schema: JSON.stringify(schema), inferred_from: [...inferredFrom], updated_by: by, updated_at: new Date() }))
    .execute();
}

/**
 * What a schema is inferred from. `first-model`: every partition the lineage's first
 * succeeded run read (trained, replayed or gated on; promoted or not: the gate judges the
 * model, not the data). `champion`: every partition the champion's run read (to follow
 * data that moved on), else the first model's. Empty before the first model.
 */
export async function schemaSourceStats(db: Registry, lineage: string, from: 'first-model' | 'champion'): Promise<Array<{ id: string; stats: PartitionStats }>> {
  const run = from === 'champion' ? sql`coalesce(
      (SELECT mv.run_id FROM aliases a JOIN model_versions mv ON mv.id = a.model_version_id WHERE a.lineage_id = l.id AND a.name = 'champion'),
      (SELECT r.id FROM runs r WHERE r.lineage_id = l.id AND r.status = 'succeeded' ORDER BY r.id LIMIT 1))` : sql`(SELECT r.id FROM runs r WHERE r.lineage_id = l.id AND r.status = 'succeeded' ORDER BY r.id LIMIT 1)`;
  const rows = await sql<{ id: string; stats: PartitionStats }>`
    SELECT DISTINCT p.id, p.stats
    FROM lineages l
    JOIN run_partitions rp ON rp.run_id = ${run}
    JOIN partitions p ON p.id = rp.partition_id
    WHERE l.name = ${lineage} AND p.stats IS NOT NULL
    ORDER BY p.id`.execute(db);
  return rows.rows;
}

/**
 * Infers the lineage's schema (`label`: its label column) and stores it; with
 * `onlyIfMissing`, keeps a schema already there (a person's edit wins). Undefined when
 * there is no first model yet (or its partitions have no statistics).
 */
export async function inferLineageSchema(db: Registry, lineage: string, options: { by: string; onlyIfMissing: boolean; label: string | undefined; from: 'first-model' | 'champion' }): Promise<StoredSchema | undefined> {
  if (options.onlyIfMissing) {
    const existing = await getLineageSchema(db, lineage);
    if (existing) return existing;
  }
  const partitions = await schemaSourceStats(db, lineage, options.from);
  if (partitions.length === 0) return undefined;
  const schema = inferSchema(partitions.map((p) => p.stats), options.label);
  const ids = partitions.map((p) => p.id);
  if (options.onlyIfMissing) {
    // Two daemons may infer at once: the first one's row stays.
    const row = await findLineageByName(db, lineage);
    await db.insertInto('lineage_schemas').values({ lineage_id: row!.id, schema: JSON.stringify(schema), inferred_from: ids, updated_by: options.by }).onConflict((oc) => oc.column('lineage_id').doNothing()).execute();
    return getLineageSchema(db, lineage);
  }
  await saveLineageSchema(db, lineage, schema, options.by, ids);
  return getLineageSchema(db, lineage);
}
