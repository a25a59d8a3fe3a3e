// Opens the registry the configuration asks for: the server at database.url, or an
// embedded server started (or reused) under database.embedded.dataDir.
import { DatabaseUnavailableError } from '../core/errors.ts';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { retryTransient, type RetryOptions } from '../core/retry.ts';
import { checkReachable, openRegistry, redactUrl, type Registry } from './connect.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.ts';

export interface RegistryHandle {
  db: Registry;
  url: string;
  embedded: EmbeddedServer | undefined;
  /** Closes the pool, then stops the embedded server if this process should. Idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions {
  config: ResolvedConfig;
  log: Logger;
  /**
   * `once`: one attempt bounded by database.connectTimeoutSeconds (CLI commands);
   * `patient`: retry with capped backoff until reachable or aborted (the daemon).
   */
  wait: 'once' | 'patient';
  signal?: AbortSignal;
  /** patient: told of each failed attempt (why, and when the next one is). */
  onRetry?: RetryOptions['onRetry'];
}

export async function openConfiguredRegistry({ config, log, wait, signal, onRetry }: OpenOptions): Promise<RegistryHandle> {
  const dbLog = log.child({ module: 'registry' });
  let embedded: EmbeddedServer | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres({ ...config.database.embedded, log: dbLog });
    url = embedded.url;
  } else {
    dbLog.info({ url: redactUrl(url) }, 'using PostgreSQL from configuration');
  }
  const db = openRegistry(url, { connectTimeoutSeconds: config.database.connectTimeoutSeconds, queryTimeoutSeconds: config.database.queryTimeoutSeconds, log: dbLog });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await db.destroy();
    await embedded?.stop();
  };
  try {
    if (wait === 'once') {
      await withDeadline(checkReachable(db, url), config.database.connectTimeoutSeconds * 1000 + 1000, url);
    } else {
      await retryTransient(() => checkReachable(db, url), {
        signal: signal ?? new AbortController().signal,
        log: dbLog,
        what: 'connecting to the database',
        maxBackoffSeconds: config.database.maxBackoffSeconds,
        isTransient: () => true, // the daemon waits for the server whatever the reason
        ...(onRetry ? { onRetry } : {}),
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { db, url, embedded, close };
}

/** pg's connect timeout does not cover a server that accepts TCP but never answers. */
async function withDeadline<T>(work: Promise<T>, ms: number, url: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`cannot reach PostgreSQL at ${redactUrl(url)}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
