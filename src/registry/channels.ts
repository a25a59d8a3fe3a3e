// The NOTIFY channels of the registry. A notification is a wake-up hint only: whoever
// listens polls the tables for the truth, so a missed one costs latency, never work.
import { sql } from 'kysely';
import type { Registry } from './connect.ts';

/** Channels freshet notifies on. */
export const CHANNELS = {
  /** A job became claimable (payload: its id); sent by a trigger on `jobs` (migration 0100). */
  jobs: 'freshet_jobs',
  /** A partition was registered (payload: {"lineage": name, "id": id} as JSON); sent in the registering transaction. */
  partitions: 'freshet_partitions',
  /** A lineage's alias (the champion) moved (payload: the lineage's name); sent in the deciding transaction. */
  champions: 'freshet_champions',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** Sends a hint on a channel; inside a transaction, Postgres delivers it at commit. */
export async function notify(db: Registry, channel: Channel, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
