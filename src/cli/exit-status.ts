// Exit codes are part of the CLI's contract for scripts (README › Exit codes). The
// constants alone, so a verb can name them without loading the error map's imports.

/** 0 success, 1 failure at run time, 2 bad usage, configuration or request, 3 database unreachable. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, databaseUnavailable: 3 });

/** Commander's own exits: help and --version "fail" with 0; a usage mistake is 2. */
export function commanderExitCode(error: { exitCode: number }): number {
  return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
