// Drift per lineage and column (data/drift.ts): the inputs read from the registry — the
// statistics of the champion's training partitions and of the fresh ones — and the latest
// result, replaced as a whole on every computation.
import { sql, type Selectable } from 'kysely';
import type { PartitionStats } from '../../data/index.ts';
import type { Registry } from '../connect.ts';
import type { FeatureDriftTable } from '../schema.ts';
import { freshPartitions } from './fresh-partitions.ts';
import { findLineageByName } from './lineages.ts';
import { CHAMPION } from './models.ts';

export interface DriftInputs {
  lineageId: string;
  /** The partitions the champion was trained on (model_version_partitions). */
  reference: PartitionStats[];
  /** The fresh partitions (registered, not learned by the champion's chain). */
  fresh: Array<{ id: string; path: string; stats: PartitionStats }>;
}

/** Undefined when the lineage has no champion yet (nothing to drift from). */
export async function driftInputs(db: Registry, lineage: { name: string; source: string }): Promise<DriftInputs | undefined> {
  const row = await findLineageByName(db, lineage.name);
  if (!row) return undefined;
  const reference = await sql<{ stats: PartitionStats }>`
    SELECT p.stats FROM aliases a
    JOIN model_version_partitions mvp ON mvp.model_version_id = a.model_version_id
    JOIN partitions p ON p.id = mvp.partition_id
    WHERE a.lineage_id = ${row.id} AND a.name = ${CHAMPION} AND p.stats IS NOT NULL
    ORDER BY p.id`.execute(db);
  if (reference.rows.length === 0) return undefined;
  const freshIds = (await freshPartitions(db, { id: row.id, source: lineage.source })).map((p) => p.id);
  const fresh = freshIds.length === 0 ? [] : await db.selectFrom('partitions').select(['id', 'path', 'stats']).where('id', 'in', freshIds).where('stats', 'is not', null).orderBy('id').execute();
  return { lineageId: row.id, reference: reference.rows.map((r) => r.stats), fresh: fresh.map((p) => ({ id: p.id, path: p.path, stats: p.stats! })) };
}

export type DriftRow = Omit<Selectable<FeatureDriftTable>, 'lineage_id' | 'computed_at'>;

/**
 * Replaces the lineage's drift rows and returns the columns that drifted now but did not
 * in the rows replaced (what is announced: an event per crossing, not per computation).
 */
export async function saveFeatureDrift(db: Registry, lineageId: string, rows: readonly DriftRow[], onCrossed: (trx: Registry, columns: string[]) => Promise<void>): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    // The lineage's row lock serialises daemons computing at once: one of them announces a crossing.
    await trx.selectFrom('lineages').select('id').where('id', '=', lineageId).forUpdate().execute();
    const before = await trx.selectFrom('feature_drift').select(['column_name', 'drifted']).where('lineage_id', '=', lineageId).execute();
    const wasDrifting = new Set(before.filter((r) => r.drifted).map((r) => r.column_name));
    await trx.deleteFrom('feature_drift').where('lineage_id', '=', lineageId).execute();
    if (rows.length > 0) await trx.insertInto('feature_drift').values(rows.map((r) => ({ ...r, lineage_id: lineageId }))).execute();
    const crossed = rows.filter((r) => r.drifted && !wasDrifting.has(r.column_name)).map((r) => r.column_name);
    if (crossed.length > 0) await onCrossed(trx, crossed); // the announcement commits with the rows, or neither does
    return crossed;
  });
}

export interface FeatureDrift extends DriftRow {
  lineage: string;
  computedAt: Date;
}

/** The latest drift rows, of one lineage or all, by lineage then column. */
export async function listFeatureDrift(db: Registry, lineage?: string): Promise<FeatureDrift[]> {
  let query = db.selectFrom('feature_drift as d').innerJoin('lineages as l', 'l.id', 'd.lineage_id').select(['l.name', 'd.column_name', 'd.partition_id', 'd.partition_path', 'd.method', 'd.value', 'd.threshold', 'd.drifted', 'd.reference_partitions', 'd.fresh_partitions', 'd.computed_at']);
  if (lineage) query = query.where('l.name', '=', lineage);
  const rows = await query.orderBy('l.name').orderBy('d.column_name').execute();
  return rows.map(({ name, computed_at, ...r }) => ({ ...r, lineage: name, computedAt: computed_at }));
}
