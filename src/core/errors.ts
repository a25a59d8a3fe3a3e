// freshet's error classes. Callers decide by class, never by message text: whether a job
// is worth retrying (PermanentError or not) and which exit code the CLI returns (the one
// map in src/cli/exit-codes.ts). Messages name the file, key, id or server a person needs.

/** Retrying cannot fix it: a job that throws one fails at once instead of using up its attempts. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** The configuration (a file, an environment variable, a key) is wrong or does not fit. */
export class ConfigError extends PermanentError {
  override name = 'ConfigError';
}

/** A named thing (run, checkpoint, lineage, model version) does not exist. Distinct from a lost connection. */
export class NotFoundError extends PermanentError {
  override name = 'NotFoundError';
}

/** The request contradicts the registry's state: promote the champion again, resume a finished run. */
export class ConflictError extends PermanentError {
  override name = 'ConflictError';
}

/** Training that cannot succeed on this data and configuration (a diverged loss, a lineage trained on other columns). */
export class TrainingError extends PermanentError {
  override name = 'TrainingError';
}

/** The database could not be reached or started (after the retries the caller asked for). */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/** Turns anything thrown into an Error (graphile-worker's coerceError). */
export function coerceError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
