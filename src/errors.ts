// Error classes that carry the process exit code the CLI maps them to.
// Exit codes are part of the CLI's contract for scripts (documented in the README).

/** Exit codes: 0 success, 1 failure at run time, 2 bad usage or configuration, 3 database unreachable. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, databaseUnavailable: 3 });

/** Bad command line or configuration: the user must change something. Exit 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
  override name = 'UsageError';
}

/** The database could not be reached or started. Exit 3. */
export class DatabaseUnavailableError extends Error {
  readonly exitCode = EXIT.databaseUnavailable;
  override name = 'DatabaseUnavailableError';
}

/** Turns anything thrown into an Error (graphile-worker's coerceError). */
export function coerceError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

/** The exit code for an error: its own when it carries one, else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' ? code : EXIT.failure;
}
