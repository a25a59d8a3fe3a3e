// The audit trail: append-only rows that say what happened, to what, and who did it.
import type { Registry } from '../connect.ts';
import type { NewRegistryEvent, RegistryEvent } from '../schema.ts';

export async function recordEvent(db: Registry, event: NewRegistryEvent): Promise<RegistryEvent> {
  return db.insertInto('events').values(event).returningAll().executeTakeFirstOrThrow();
}

export async function listEvents(db: Registry, filter: { kind?: string; limit?: number } = {}): Promise<RegistryEvent[]> {
  let query = db.selectFrom('events').selectAll().orderBy('id', 'desc');
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  return query.limit(filter.limit ?? 100).execute();
}
