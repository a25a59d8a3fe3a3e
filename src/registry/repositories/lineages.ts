// Lineages: a model family trained on one configuration, with its fixed steps_per_epoch.
import { NotFoundError } from '../../core/errors.ts';
import type { Registry } from '../connect.ts';
import type { Lineage, NewLineage } from '../schema.ts';

export async function createLineage(db: Registry, lineage: NewLineage): Promise<Lineage> {
  return db.insertInto('lineages').values(lineage).returningAll().executeTakeFirstOrThrow();
}

export async function findLineageByName(db: Registry, name: string): Promise<Lineage | undefined> {
  return db.selectFrom('lineages').selectAll().where('name', '=', name).executeTakeFirst();
}

/**
 * Locks the lineage's row until the transaction ends: what serialises version numbering
 * and every change of its champion (two deciders on one lineage take turns).
 */
export async function lockLineage(trx: Registry, lineageId: string): Promise<void> {
  await trx.selectFrom('lineages').select('id').where('id', '=', lineageId).forUpdate().executeTakeFirstOrThrow();
}

/** The lineage named `name`; NotFoundError when there is none. */
export async function getLineageByName(db: Registry, name: string): Promise<Lineage> {
  const row = await findLineageByName(db, name);
  if (!row) throw new NotFoundError(`lineage "${name}" does not exist (train a first model, or check \`lineage\` in the configuration)`);
  return row;
}

export async function getLineage(db: Registry, id: string): Promise<Lineage> {
  const row = await db.selectFrom('lineages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`lineage ${id} does not exist`);
  return row;
}

