// Partitions: one row per version of a partition directory's content.
import type { Registry } from '../connect.ts';
import type { NewPartition, Partition, PartitionStatus } from '../schema.ts';

/** The row for this exact content at this path, whatever its status. */
export async function findPartitionByContent(db: Registry, path: string, sha256: string): Promise<Partition | undefined> {
  return db.selectFrom('partitions').selectAll().where('path', '=', path).where('sha256', '=', sha256).executeTakeFirst();
}

/** The registered version at a path, if any. */
export async function findRegisteredPartition(db: Registry, path: string): Promise<Partition | undefined> {
  return db.selectFrom('partitions').selectAll().where('path', '=', path).where('status', '=', 'registered').executeTakeFirst();
}

export async function insertPartition(db: Registry, partition: NewPartition): Promise<Partition> {
  return db.insertInto('partitions').values(partition).returningAll().executeTakeFirstOrThrow();
}

/** Marks a version superseded by a newer one (call inside the transaction that inserts it). */
export async function supersedePartition(db: Registry, id: string, byId: string): Promise<Partition> {
  return db.updateTable('partitions').set({ status: 'superseded', superseded_by: byId }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function listPartitions(db: Registry, filter: { status?: PartitionStatus; limit?: number } = {}): Promise<Partition[]> {
  let query = db.selectFrom('partitions').selectAll().orderBy('id', 'desc');
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.limit(filter.limit ?? 1000).execute();
}
