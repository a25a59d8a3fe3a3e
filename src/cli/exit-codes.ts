// The one map from error class to exit code. Exit codes are part of the CLI's contract
// for scripts (README › Exit codes).
import { CommanderError } from 'commander';
import { ConfigError, ConflictError, DatabaseUnavailableError, NotFoundError } from '../core/errors.ts';
import { isTransientDatabaseError } from '../registry/index.ts';
import { UsageError } from './usage-error.ts';

import { commanderExitCode, EXIT } from './exit-status.ts';

export { EXIT };

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return commanderExitCode(error);
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof NotFoundError || error instanceof ConflictError) return EXIT.usage;
  // A lost connection is not "no such row": scripts retry exit 3.
  if (error instanceof DatabaseUnavailableError || isTransientDatabaseError(error)) return EXIT.databaseUnavailable;
  return EXIT.failure;
}
