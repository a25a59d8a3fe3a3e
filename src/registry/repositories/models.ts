// Model versions, aliases (`champion`) and promotion decisions: an MLflow-like registry.
import type { Insertable } from 'kysely';
import type { Registry } from '../connect.ts';
import { lockLineage } from './lineages.ts';
import type { ModelVersion, ModelVersionsTable, NewPromotion, Promotion } from '../schema.ts';

export const CHAMPION = 'champion';

/** Creates the next version number of a lineage, with the partitions it was trained on. */
export async function createModelVersion(
  db: Registry,
  version: Omit<Insertable<ModelVersionsTable>, 'version'>,
  partitionIds: readonly string[],
): Promise<ModelVersion> {
  const lineageId = String(version.lineage_id);
  const inTransaction = <T,>(work: (trx: Registry) => Promise<T>): Promise<T> => (db.isTransaction ? work(db) : db.transaction().execute(work));
  return inTransaction(async (trx) => {
    await lockLineage(trx, lineageId); // version numbering per lineage, held until commit
    const last = await trx
      .selectFrom('model_versions')
      .select((eb) => eb.fn.max('version').as('max'))
      .where('lineage_id', '=', lineageId)
      .executeTakeFirst();
    const row = await trx
      .insertInto('model_versions')
      .values({ ...version, version: (last?.max ?? 0) + 1 })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (partitionIds.length > 0) {
      await trx
        .insertInto('model_version_partitions')
        .values(partitionIds.map((partition_id) => ({ model_version_id: row.id, partition_id })))
        .execute();
    }
    return row;
  });
}

/** Points an alias at a version (insert or move). The foreign key keeps it inside the lineage. */
export async function setAlias(db: Registry, lineageId: string, name: string, modelVersionId: string): Promise<void> {
  await db
    .insertInto('aliases')
    .values({ lineage_id: lineageId, name, model_version_id: modelVersionId })
    .onConflict((oc) => oc.columns(['lineage_id', 'name']).doUpdateSet({ model_version_id: modelVersionId, updated_at: new Date() }))
    .execute();
}

export async function getAliasedVersion(db: Registry, lineageId: string, name: string): Promise<ModelVersion | undefined> {
  return db
    .selectFrom('aliases')
    .innerJoin('model_versions', 'model_versions.id', 'aliases.model_version_id')
    .selectAll('model_versions')
    .where('aliases.lineage_id', '=', lineageId)
    .where('aliases.name', '=', name)
    .executeTakeFirst();
}

export async function listModelVersions(db: Registry, lineageId: string): Promise<ModelVersion[]> {
  return db.selectFrom('model_versions').selectAll().where('lineage_id', '=', lineageId).orderBy('version').execute();
}

export async function recordPromotion(db: Registry, promotion: NewPromotion): Promise<Promotion> {
  return db.insertInto('promotions').values(promotion).returningAll().executeTakeFirstOrThrow();
}

export async function listPromotions(db: Registry, lineageId: string, limit = 50): Promise<Promotion[]> {
  return db.selectFrom('promotions').selectAll().where('lineage_id', '=', lineageId).orderBy('id', 'desc').limit(limit).execute();
}

/** When the newest partition a version was trained on arrived (its data freshness); null without partitions. */
export async function newestTrainingDataArrival(db: Registry, modelVersionId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('model_version_partitions')
    .innerJoin('partitions', 'partitions.id', 'model_version_partitions.partition_id')
    .select((eb) => eb.fn.max<Date | null>('partitions.arrived_at').as('newest'))
    .where('model_version_partitions.model_version_id', '=', modelVersionId)
    .executeTakeFirst();
  return row?.newest ?? null;
}
