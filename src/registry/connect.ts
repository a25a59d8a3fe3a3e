// Connecting to the registry's PostgreSQL: one pool per process, a one-shot reachability
// check with a bounded wait, and the daemon's patient version with capped backoff.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { coerceError, DatabaseUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Database } from './schema.ts';

// int8 and numeric stay strings (ids can exceed 2^53); float8 arrives as a JS number already.

export type Registry = Kysely<Database>;

export interface ConnectOptions {
  /** Seconds to wait for a TCP connection before a connect attempt fails. */
  connectTimeoutSeconds: number;
  /**
   * Seconds a statement may wait for its reply before it fails and its connection is
   * discarded: what ends a statement stuck on a network that silently drops packets.
   */
  queryTimeoutSeconds?: number;
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

/** pg's message when query_timeout expires. */
const READ_TIMEOUT = 'Query read timeout';

/**
 * A client that gives up its connection when a statement times out. pg's query_timeout
 * rejects the statement but leaves the client waiting for the lost reply, so every later
 * statement on it would time out too (brianc/node-postgres#3399). Destroying the socket
 * makes the client unqueryable, and pg-pool drops it when it is released.
 */
class AbandonOnTimeoutClient extends pg.Client {
  // pg's query has many overloads; this passes them all through.
  override query(...args: any[]): any {
    const result: unknown = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error | undefined)?.message === READ_TIMEOUT) (this as unknown as { connection: { stream: { destroy(e?: Error): void } } }).connection.stream.destroy();
      });
    }
    return result;
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
    query_timeout: (options.queryTimeoutSeconds ?? 120) * 1000,
    // Notice a silently dead server under an idle connection instead of keeping it forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    Client: AbandonOnTimeoutClient,
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
      `cannot reach PostgreSQL at ${redactUrl(url)}: ${coerceError(error).message || coerceError(error).name}`,
      { cause: error },
    );
  }
}
