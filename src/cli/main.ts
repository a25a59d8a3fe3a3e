// The `freshet` command line: the program and its global options, the verbs (one file per
// group, added below), and the exit code each failure maps to (the one map in exit-codes.ts).
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { coerceError } from '../core/errors.ts';
import { commanderExitCode } from './exit-status.ts';
import { addDataVerbs } from './data-verbs.ts';
import { addSchemaVerbs } from './validation-verbs.ts';
import { addJobVerbs } from './job-verbs.ts';
import { addBacktestVerb } from './backtest-verb.ts';
import { addModelVerbs } from './model-verbs.ts';
import { addPredictVerb } from './predict-verb.ts';
import { addSetupVerbs } from './setup-verbs.ts';
import { addStatusVerbs } from './status-verbs.ts';
import { addTrainingVerbs } from './training-verbs.ts';
import { addTuneVerb } from './tune-verb.ts';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('freshet')
    .exitOverride() // before adding verbs: subcommands copy it, so usage errors map to exit 2
    .description('Keeps a TensorFlow.js model fresh as new data partitions arrive.')
    .version(pkg.version, '-V, --version')
    .option('-c, --config <file>', 'configuration file (default: ./freshet.config.yaml, or $FRESHET_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level (one-shot verbs log warnings only by default; the daemon uses log.level)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--verbose', 'one-shot verbs also log at info level (on stderr; the answer stays on stdout)')
    .option('--lineage <name>', 'the lineage a verb works on (a name under lineages:; needed when there are several); daemon and worker: run only this one; status: only this one (default: all)')
    .showHelpAfterError('(run `freshet --help` for usage)')
    .addHelpText(
      'after',
      `
Database: DATABASE_URL (or database.url) selects a PostgreSQL server; without it freshet
runs an embedded server under .freshet/pg.

Exit codes: 0 ok, 1 failure, 2 bad usage, configuration or request (not found, conflict),
3 database unreachable.`,
    );

  addSetupVerbs(program);
  addStatusVerbs(program);
  addDataVerbs(program);
  addSchemaVerbs(program);
  addJobVerbs(program);
  addBacktestVerb(program);
  addTuneVerb(program);
  addTrainingVerbs(program);
  addModelVerbs(program);
  addPredictVerb(program);
  return program;
}

/**
 * `freshet partitions | head`: the reader left; stop quietly, as cat and grep do (an
 * unhandled EPIPE printed a stack trace). The output wanted was given: the exit code is the
 * verb's so far.
 */
function quietOnClosedPipe(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    // A verb that finished but must report a partial failure (scan, predict) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (thrown) {
    // Commander already printed its usage errors (and help and --version end here with 0).
    if (thrown instanceof CommanderError) return commanderExitCode(thrown);
    // Loaded only now: the map knows the registry's transient errors, which loads the database driver.
    const { EXIT, exitCodeFor } = await import('./exit-codes.ts');
    const error = coerceError(thrown);
    const code = exitCodeFor(error);
    process.stderr.write(`freshet: ${error.message}\n`);
    if (code === EXIT.failure && process.env.FRESHET_DEBUG_STACKS) process.stderr.write(`${error.stack}\n`);
    return code;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
