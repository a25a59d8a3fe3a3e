// Model versions, aliases (`champion`) and promotion decisions: an MLflow-like registry.
import type { Insertable } from 'kysely';
import { sql } from 'kysely';
import type { Registry } from '../connect.ts';
import { CHANNELS } from '../channels.ts';
import { recordDecisionEvent } from './outbox.ts';
import { NotFoundError } from '../../core/errors.ts';
import { findLineageByName, lockLineage } from './lineages.ts';
import type { Lineage, ModelVersion, ModelVersionsTable, NewPromotion, Promotion } from '../schema.ts';

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

/**
 * Points an alias at a version (insert or move). The foreign key keeps it inside the
 * lineage. Notifies `freshet_champions` with the lineage's name (delivered at commit, so
 * a daemon that caches the champion switches exactly when the decision is visible).
 */
export async function setAlias(db: Registry, lineageId: string, name: string, modelVersionId: string): Promise<void> {
  await db
    .insertInto('aliases')
    .values({ lineage_id: lineageId, name, model_version_id: modelVersionId })
    .onConflict((oc) => oc.columns(['lineage_id', 'name']).doUpdateSet({ model_version_id: modelVersionId, updated_at: new Date() }))
    .execute();
  await sql`select pg_notify(${CHANNELS.champions}, (select name from lineages where id = ${lineageId}))`.execute(db);
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

/**
 * Records a decision, and its outbox event (webhooks) in the same transaction: every
 * caller runs this inside the deciding transaction, so the event exists exactly when the
 * decision does.
 */
export async function recordPromotion(db: Registry, promotion: NewPromotion): Promise<Promotion> {
  const row = await db.insertInto('promotions').values(promotion).returningAll().executeTakeFirstOrThrow();
  await recordDecisionEvent(db, row.id);
  return row;
}

export async function listPromotions(db: Registry, lineageId: string, limit = 50): Promise<Promotion[]> {
  return db.selectFrom('promotions').selectAll().where('lineage_id', '=', lineageId).orderBy('id', 'desc').limit(limit).execute();
}

/** How many decisions a lineage has (for "showing the newest N of M"). */
export async function countPromotions(db: Registry, lineageId: string): Promise<number> {
  const row = await db.selectFrom('promotions').select((eb) => eb.fn.countAll<string>().as('n')).where('lineage_id', '=', lineageId).executeTakeFirstOrThrow();
  return Number(row.n);
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

/** A model version by id; NotFoundError when there is none. */
export async function getModelVersion(db: Registry, id: string): Promise<ModelVersion> {
  const row = await db.selectFrom('model_versions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`model version ${id} does not exist`);
  return row;
}

/** Version number `version` of a lineage, if it exists. */
export async function findModelVersion(db: Registry, lineageId: string, version: number): Promise<ModelVersion | undefined> {
  return db.selectFrom('model_versions').selectAll().where('lineage_id', '=', lineageId).where('version', '=', version).executeTakeFirst();
}

/** The gate's decision on a run, if it was made (one per run: a unique index). */
export async function findGateDecision(db: Registry, runId: string): Promise<Promotion | undefined> {
  return db.selectFrom('promotions').selectAll().where('run_id', '=', runId).where('decision', 'in', ['promoted', 'rejected']).executeTakeFirst();
}

/**
 * The champion that version `versionId` replaced when it last became champion (by the
 * gate, by hand or by a rollback); null when it was the lineage's first champion.
 */
export async function replacedChampionId(db: Registry, lineageId: string, versionId: string): Promise<string | null> {
  const row = await db
    .selectFrom('promotions')
    .select('champion_version_id')
    .where('lineage_id', '=', lineageId)
    .where('candidate_version_id', '=', versionId)
    .where('decision', 'in', ['promoted', 'manual', 'rollback', 'fallback'])
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row?.champion_version_id ?? null;
}

/** The lineage named `lineageName` and its champion version, if it has both. */
export async function findChampion(db: Registry, lineageName: string): Promise<{ lineage: Lineage; version: ModelVersion } | undefined> {
  const lineage = await findLineageByName(db, lineageName);
  const version = lineage ? await getChampion(db, lineage.id) : undefined;
  return lineage && version ? { lineage, version } : undefined;
}

/** The lineage's champion version (the `champion` alias), if it has one. */
export function getChampion(db: Registry, lineageId: string): Promise<ModelVersion | undefined> {
  return getAliasedVersion(db, lineageId, CHAMPION);
}

/** Records where a version's serving export lives. */
export async function setServingUri(db: Registry, versionId: string, uri: string): Promise<void> {
  await db.updateTable('model_versions').set({ serving_uri: uri }).where('id', '=', versionId).execute();
}

/** When the lineage's champion alias last moved (the current champion's promotion time). */
export async function championSince(db: Registry, lineageId: string): Promise<Date | undefined> {
  return (await db.selectFrom('aliases').select('updated_at').where('lineage_id', '=', lineageId).where('name', '=', CHAMPION).executeTakeFirst())?.updated_at;
}
