// Which database errors are worth retrying: the server restarting, a dropped connection,
// or a serialization conflict. Anything else (a constraint, a syntax error) fails at once.

/** SQLSTATE codes that mean "try again": serialization/deadlock, shutdown, cannot connect now. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown (server restarting)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
]);
/** Connection-level errors from Node's net layer and from pg itself. */
const RETRYABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function isTransientDatabaseError(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (RETRYABLE_SQLSTATES.has(code) || code.startsWith('08') || RETRYABLE_NODE_CODES.has(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|cannot reach PostgreSQL|Query read timeout|not queryable/i.test(message)) return true;
    if ((e as { name?: unknown }).name === 'DatabaseUnavailableError') return true;
  }
  return false;
}

/**
 * The registry's retry policy compiled from the configuration once (the daemon's startup,
 * the retrain job's writes): transient errors only, backoff capped at
 * database.maxBackoffSeconds. The caller adds what it retries, its signal and log.
 */
export function registryRetryPolicy(database: { maxBackoffSeconds: number }): { maxBackoffSeconds: number; isTransient: (error: unknown) => boolean } {
  return { maxBackoffSeconds: database.maxBackoffSeconds, isTransient: isTransientDatabaseError };
}
