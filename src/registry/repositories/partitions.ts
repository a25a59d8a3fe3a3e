// Partitions: one row per version of a partition directory's content, per source (the
// data location it was found in, as configured: `dataDir`). The same path in two folders is
// two partitions; lineages that read one folder share its partitions.
import { sql } from 'kysely';
import type { Registry } from '../connect.ts';
import type { NewPartition, Partition, PartitionStatus } from '../schema.ts';

/** The newest version at a path, whatever its status (what the path holds as far as the registry knows). */
export async function findLatestPartitionVersion(db: Registry, source: string, path: string): Promise<Partition | undefined> {
  return db.selectFrom('partitions').selectAll().where('source', '=', source).where('path', '=', path).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

/**
 * A registered partition at another path with the same content: a copy (the same day
 * written under two keys, say). `duplicate` in metrics means exactly this.
 */
export async function findRegisteredCopyElsewhere(db: Registry, source: string, path: string, sha256: string): Promise<Partition | undefined> {
  return db.selectFrom('partitions').selectAll().where('source', '=', source).where('sha256', '=', sha256).where('path', '<>', path).where('status', '=', 'registered').orderBy('id').limit(1).executeTakeFirst();
}

/**
 * Marks the rejected versions at a path superseded by a newer version (registered or
 * rejected again): a fixed partition leaves no rejection behind to count or to show.
 */
export async function supersedeRejectedVersions(trx: Registry, source: string, path: string, byId: string): Promise<Partition[]> {
  return trx.updateTable('partitions').set({ status: 'superseded', superseded_by: byId }).where('source', '=', source).where('path', '=', path).where('status', '=', 'rejected').where('id', '<>', byId).returningAll().execute();
}

/** The live version at a path, if any: registered, or quarantined (registered content held back by its schema). */
export async function findRegisteredPartition(db: Registry, source: string, path: string): Promise<Partition | undefined> {
  return db.selectFrom('partitions').selectAll().where('source', '=', source).where('path', '=', path).where('status', 'in', ['registered', 'quarantined']).executeTakeFirst();
}

/**
 * An operator's decision on a partition (freshet partitions accept | reject): accept turns
 * a quarantined partition into a registered one; reject takes a quarantined or registered
 * one out of training for good. Who, when and why are kept on the row; the error of a
 * rejection says it was a person's. Returns the row, or undefined when the partition is
 * not in a state the decision applies to (named by the caller).
 */
export async function decidePartition(db: Registry, id: string, decision: 'accept' | 'reject', by: string, reason: string): Promise<Partition | undefined> {
  const from: PartitionStatus[] = decision === 'accept' ? ['quarantined'] : ['quarantined', 'registered'];
  return db
    .updateTable('partitions')
    .set({
      status: decision === 'accept' ? 'registered' : 'rejected',
      error: decision === 'accept' ? null : `rejected by ${by}: ${reason}`,
      decided_by: by,
      decided_at: new Date(),
      decision_reason: reason,
    })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Serialises registrations of one path until the transaction ends, across every process:
 * two daemons that see the same new directory register it once.
 */
export async function lockPartitionPath(trx: Registry, source: string, path: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`freshet.partition:${source}:${path}`}))`.execute(trx);
}

/** The next version number at a path (1 for a new path); call under lockPartitionPath. */
export async function nextPartitionVersion(trx: Registry, source: string, path: string): Promise<number> {
  const last = await trx.selectFrom('partitions').select((eb) => eb.fn.max('version').as('v')).where('source', '=', source).where('path', '=', path).executeTakeFirst();
  return (last?.v ?? 0) + 1;
}

/**
 * Takes the registered version at a path out of the way before its successor is inserted:
 * at most one registered row per path is a partial unique index, which cannot be
 * deferred; supersedePartition links it to the new row once that exists.
 */
export async function retirePartition(trx: Registry, id: string): Promise<void> {
  await trx.updateTable('partitions').set({ status: 'superseded' }).where('id', '=', id).execute();
}

export async function insertPartition(db: Registry, partition: NewPartition): Promise<Partition> {
  return db.insertInto('partitions').values(partition).returningAll().executeTakeFirstOrThrow();
}

/** Marks a version superseded by a newer one (call inside the transaction that inserts it). */
export async function supersedePartition(db: Registry, id: string, byId: string): Promise<Partition> {
  return db.updateTable('partitions').set({ status: 'superseded', superseded_by: byId }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Partition versions, newest first; of one source, or of every source when none is named. */
export async function listPartitions(db: Registry, filter: { source?: string; status?: PartitionStatus; limit?: number } = {}): Promise<Partition[]> {
  let query = db.selectFrom('partitions').selectAll().orderBy('id', 'desc');
  if (filter.source !== undefined) query = query.where('source', '=', filter.source);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.limit(filter.limit ?? 1000).execute();
}

/** Invalid rows (skipped by training) across the registered partitions: what a user should look at when it is not 0. */
export async function registeredInvalidRows(db: Registry, source: string): Promise<number> {
  const row = await db.selectFrom('partitions').select((eb) => eb.fn.sum<string | null>('invalid_rows').as('n')).where('source', '=', source).where('status', '=', 'registered').executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}

/** A source's partitions per status, and when the newest registered one arrived. */
export async function partitionCounts(db: Registry, source: string): Promise<{ byStatus: Record<string, number>; newestRegisteredArrival: Date | null }> {
  const rows = await db.selectFrom('partitions').select(['status', db.fn.countAll<string>().as('n'), db.fn.max('arrived_at').as('newest')]).where('source', '=', source).groupBy('status').execute();
  return { byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])), newestRegisteredArrival: rows.find((r) => r.status === 'registered')?.newest ?? null };
}

/**
 * Gives a path's versions registered before sources existed (source '', migration
 * 2026-12-06T0100) to `source`, when the newest of them holds `sha256` — the content the
 * source's folder holds now, so they were registered from it. Returns the newest adopted
 * version; undefined when there is nothing to adopt (then the path is new to the source).
 * A registration asks this before treating a path as new: an upgraded registry keeps its
 * partitions, their runs and their versions.
 */
export async function adoptUnsourcedVersions(db: Registry, source: string, path: string, sha256: string): Promise<Partition | undefined> {
  const newest = await findLatestPartitionVersion(db, '', path);
  if (newest?.sha256 !== sha256) return undefined;
  await db.updateTable('partitions').set({ source }).where('source', '=', '').where('path', '=', path).execute();
  await db.updateTable('waiting_partitions').set({ source }).where('source', '=', '').where('path', '=', path).execute();
  return { ...newest, source };
}

/**
 * A source's data quality at a glance (metrics, status): how many partitions wait in
 * quarantine, and the missing share per column of its newest registered partition
 * (read through the documented view partition_column_stats).
 */
export async function partitionQuality(db: Registry, source: string): Promise<{ quarantined: number; newestMissing: Array<{ column: string; share: number }> }> {
  const quarantined = await db.selectFrom('partitions').select(db.fn.countAll<string>().as('n')).where('source', '=', source).where('status', '=', 'quarantined').executeTakeFirstOrThrow();
  const newest = await sql<{ column_name: string; missing_share: number | null }>`
    SELECT column_name, missing_share FROM partition_column_stats
    WHERE partition_id = (SELECT id FROM partitions WHERE source = ${source} AND status = 'registered' AND stats IS NOT NULL ORDER BY arrived_at DESC, id DESC LIMIT 1)
    ORDER BY column_name`.execute(db);
  return { quarantined: Number(quarantined.n), newestMissing: newest.rows.map((r) => ({ column: r.column_name, share: r.missing_share ?? 0 })) };
}
