// Connecting to the registry's PostgreSQL: one pool per process, a one-shot reachability
// check with a bounded wait, and the daemon's patient version with capped backoff.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { DatabaseUnavailableError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Database } from './schema.ts';

// int8 and numeric stay strings (ids can exceed 2^53); float8 arrives as a JS number already.

export type Registry = Kysely<Database>;

export interface ConnectOptions {
  /** Seconds to wait for a TCP connection before a connect attempt fails. */
  connectTimeoutSeconds: number;
  /** Pool size; the daemon needs few connections (queries are short, training is not in SQL). */
  maxConnections?: number;
  log?: Logger | undefined;
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

/** Opens a pool-backed Kysely instance. Nothing connects until the first query. */
export function openRegistry(url: string, options: ConnectOptions): Registry {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'freshet',
    connectionTimeoutMillis: options.connectTimeoutSeconds * 1000,
    max: options.maxConnections ?? 10,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its server (Postgres restarting) emits 'error' on the pool;
  // unhandled, that would crash the process. The next query simply gets a new client.
  pool.on('error', (error) => options.log?.warn({ err: error }, 'idle database connection lost'));
  // pg-pool listens for errors only on idle clients. A checked-out client between two
  // statements (Kysely holds one across a transaction's JS work) that loses its server
  // would emit an unhandled 'error' and crash the process; the statement in flight, if
  // any, still fails on its own, and pg-pool drops the broken client when it is released.
  pool.on('connect', (client) => client.on('error', (error) => options.log?.warn({ err: error.message }, 'database connection lost while in use')));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** One attempt: throws DatabaseUnavailableError naming the server when it cannot be reached. */
export async function checkReachable(db: Registry, url: string): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    throw new DatabaseUnavailableError(
      `cannot reach PostgreSQL at ${redactUrl(url)}: ${(error as Error).message || (error as Error).name}`,
      { cause: error },
    );
  }
}
