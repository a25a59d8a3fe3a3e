// Partitions waiting for their marker: directories with data files that the watchers saw
// but that are not complete yet. Shown by `partitions`, `scan`, `status`, the status page
// and metrics, so a producer that forgot `_SUCCESS` is noticed.
import type { Registry } from '../connect.ts';
import type { WaitingPartition } from '../schema.ts';

export interface WaitingSighting {
  /** The data location the partition was seen in. */
  source: string;
  path: string;
  files: number;
  bytes: number;
  firstFileAt: Date;
}

/** Records (or refreshes) one waiting partition. */
export async function upsertWaitingPartition(db: Registry, seen: WaitingSighting): Promise<void> {
  await db
    .insertInto('waiting_partitions')
    .values({ source: seen.source, path: seen.path, files: seen.files, bytes: seen.bytes, first_file_at: seen.firstFileAt })
    .onConflict((oc) => oc.columns(['source', 'path']).doUpdateSet({ files: seen.files, bytes: seen.bytes, first_file_at: seen.firstFileAt, last_seen_at: new Date() }))
    .execute();
}

/** The partition is complete (registered or rejected, in the same transaction) or gone. */
export async function removeWaitingPartition(db: Registry, source: string, path: string): Promise<void> {
  await db.deleteFrom('waiting_partitions').where('source', '=', source).where('path', '=', path).execute();
}

/**
 * A full scan's view: exactly these paths wait. One transaction, so a reader never sees
 * the table half replaced; a partition registered meanwhile by another daemon may come
 * back as waiting until its next scan, which is harmless (the next scan removes it).
 */
export async function replaceWaitingPartitions(db: Registry, source: string, waiting: readonly Omit<WaitingSighting, 'source'>[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const paths = waiting.map((w) => w.path);
    let stale = trx.deleteFrom('waiting_partitions').where('source', '=', source);
    if (paths.length > 0) stale = stale.where('path', 'not in', paths);
    await stale.execute();
    for (const seen of waiting) await upsertWaitingPartition(trx, { ...seen, source });
  });
}

/** Waiting partitions (of one source, or of all), the longest-waiting first. */
export async function listWaitingPartitions(db: Registry, limit = 1000, source?: string): Promise<WaitingPartition[]> {
  let query = db.selectFrom('waiting_partitions').selectAll();
  if (source !== undefined) query = query.where('source', '=', source);
  return query.orderBy('first_file_at').orderBy('path').limit(limit).execute();
}

/** How many partitions wait for their marker, and since when the oldest has. */
export async function waitingSummary(db: Registry, source?: string): Promise<{ count: number; oldestFileAt: Date | null }> {
  let query = db.selectFrom('waiting_partitions').select([db.fn.countAll<string>().as('n'), db.fn.min('first_file_at').as('oldest')]);
  if (source !== undefined) query = query.where('source', '=', source);
  const row = await query.executeTakeFirstOrThrow();
  return { count: Number(row.n), oldestFileAt: row.oldest ?? null };
}
