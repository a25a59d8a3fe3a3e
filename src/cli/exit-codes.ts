// The one map from error class to exit code. Exit codes are part of the CLI's contract
// for scripts (README › Exit codes).
import { CommanderError } from 'commander';
import { ConfigError, ConflictError, DatabaseUnavailableError, NotFoundError } from '../core/errors.ts';
import { isTransientDatabaseError } from '../registry/index.ts';
import { UsageError } from './usage-error.ts';

/** 0 success, 1 failure at run time, 2 bad usage, configuration or request, 3 database unreachable. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, databaseUnavailable: 3 });

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // help and --version "fail" with 0
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof NotFoundError || error instanceof ConflictError) return EXIT.usage;
  // A lost connection is not "no such row": scripts retry exit 3.
  if (error instanceof DatabaseUnavailableError || isTransientDatabaseError(error)) return EXIT.databaseUnavailable;
  return EXIT.failure;
}
