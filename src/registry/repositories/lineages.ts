// Lineages: a model family trained on one configuration, with its fixed steps_per_epoch.
import type { Registry } from '../connect.ts';
import type { Lineage, NewLineage } from '../schema.ts';

export async function createLineage(db: Registry, lineage: NewLineage): Promise<Lineage> {
  return db.insertInto('lineages').values(lineage).returningAll().executeTakeFirstOrThrow();
}

export async function findLineageByName(db: Registry, name: string): Promise<Lineage | undefined> {
  return db.selectFrom('lineages').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function getLineage(db: Registry, id: string): Promise<Lineage> {
  const row = await db.selectFrom('lineages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new Error(`lineage ${id} does not exist`);
  return row;
}

export async function listLineages(db: Registry): Promise<Lineage[]> {
  return db.selectFrom('lineages').selectAll().orderBy('id').execute();
}
