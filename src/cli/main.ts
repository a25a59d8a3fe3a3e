// The `freshet` command line. Each verb loads the configuration once, validates it, and
// maps failures to exit codes scripts can rely on (the one map in exit-codes.ts).
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { configReferenceTable, loadConfig, type ResolvedConfig } from '../core/config.ts';
import os from 'node:os';
import { runDaemon, type DaemonRole } from '../daemon.ts';
import { runDemo } from '../demo/demo.ts';
import { coerceError } from '../core/errors.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { UsageError } from './usage-error.ts';
import { initProject } from './init-command.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { assertSchemaCurrent, findLineageByName, getRun, listJobs, listPartitions, listRunCheckpoints, listRuns, migrateToLatest, type JobState, redactUrl, openConfiguredRegistry, type PartitionStatus, type RegistryHandle } from '../registry/index.ts';
import { formatModels, formatPlateau, modelsReport, promoteCommand, rollbackCommand } from './model-commands.ts';
import { plateauReport } from '../selection/index.ts';
import { enqueueRetrain } from '../scheduler/index.ts';
import { PartitionWatcher } from '../watcher/index.ts';
import { shutdownOnSignals } from '../core/shutdown.ts';
import { formatStatus } from './status-text.ts';
import { statusReport } from '../observability/status-report.ts';
import { formatTable } from './table.ts';
import { trainCommand, type TrainCommandOptions } from './train-command.ts';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

function setup(command: Command): { config: ResolvedConfig; log: Logger } {
  const options = command.optsWithGlobals<GlobalOptions>();
  const env = { ...process.env };
  if (options.logLevel) env.FRESHET_LOG__LEVEL = options.logLevel;
  const config = loadConfig({ file: options.config, env });
  return { config, log: createLogger(config.log) };
}

/**
 * What a one-shot command needs of the schema: `current` (it reads the tables: refuse a
 * schema behind or ahead with a clear message), `migrate` (it writes: bring it up to date
 * first), `any` (it reports on the schema itself, or migrates it).
 */
type SchemaNeed = 'current' | 'migrate' | 'any';

/** Opens the registry for a one-shot command and always closes it (and any embedded server). */
async function withRegistry<T>(command: Command, schema: SchemaNeed, work: (registry: RegistryHandle, log: Logger, config: ResolvedConfig) => Promise<T>): Promise<T> {
  const { config, log } = setup(command);
  const registry = await openConfiguredRegistry({ config, log, wait: 'once' });
  try {
    if (schema === 'current') await assertSchemaCurrent(registry.db);
    else if (schema === 'migrate') await migrateToLatest(registry.db);
    return await work(registry, log, config);
  } finally {
    await registry.close();
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function buildProgram(): Command {
  const program = new Command('freshet')
    .exitOverride() // before adding verbs: subcommands copy it, so usage errors map to exit 2
    .description('Keeps a TensorFlow.js model fresh as new data partitions arrive.')
    .version(pkg.version, '-V, --version')
    .option('-c, --config <file>', 'configuration file (default: ./freshet.config.yaml, or $FRESHET_CONFIG)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .showHelpAfterError('(run `freshet --help` for usage)')
    .addHelpText(
      'after',
      `
Database: DATABASE_URL (or database.url) selects a PostgreSQL server; without it freshet
runs an embedded server under .freshet/pg.

Exit codes: 0 ok, 1 failure, 2 bad usage, configuration or request (not found, conflict),
3 database unreachable.`,
    );

  program
    .command('init')
    .description('write a commented starter freshet.config.yaml and the data-dir layout')
    .argument('[dir]', 'project directory', '.')
    .option('--force', 'overwrite an existing freshet.config.yaml')
    .action((dir: string, options: { force?: boolean }) => {
      const { configFile, created } = initProject(dir, { force: options.force ?? false });
      for (const file of created) print(`created ${file}`);
      print(`\nNext: edit ${configFile}, then run \`freshet daemon\`.`);
    });

  program
    .command('migrate')
    .description('apply pending registry migrations (safe to run twice, or from two processes at once)')
    .action(async (_options: unknown, command: Command) => {
      await withRegistry(command, 'any', async (registry, log) => {
        const { applied, version } = await migrateToLatest(registry.db);
        log.info({ applied, schemaVersion: version }, applied.length ? 'migrations applied' : 'schema already current');
        print(applied.length ? `applied ${applied.join(', ')}; schema version ${version}` : `schema already current: ${version}`);
      });
    });

  program
    .command('status')
    .description('what to look at first: champion and its metric, data freshness, job queue, latest runs and decisions, schema and rows per table')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withRegistry(command, 'any', async (registry, _log, config) => {
        const report = await statusReport(registry.db, config);
        print(options.json ? JSON.stringify(report, null, 2) : formatStatus(report));
      });
    });

  program
    .command('runs')
    .description('training runs of the lineage, newest first: kind, status, base checkpoint, epochs, result, errors')
    .option('--limit <n>', 'most rows to show', (v) => positiveInt('--limit', v), 20)
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const lineage = await findLineageByName(registry.db, config.lineage);
        const rows = lineage ? await listRuns(registry.db, { lineageId: lineage.id, limit: options.limit }) : [];
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(
          formatTable(
            ['run', 'kind', 'status', 'job', 'base', 'target epochs', 'result', 'started', 'finished', 'invalid rows', 'error'],
            rows.map((r) => [r.id, r.kind, r.status, r.job_id, r.base_checkpoint_id, r.target_virtual_epochs, r.result_checkpoint_id, r.started_at.toISOString(), r.finished_at?.toISOString(), r.invalid_rows, r.error]),
          ),
        );
      });
    });

  program
    .command('checkpoints')
    .description('the checkpoints a run kept: virtual epoch, step, losses, size, store and location')
    .argument('<run>', 'run id (see `freshet runs`)')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, options: { json?: boolean }, command: Command) => {
      if (!/^\d+$/.test(runId)) throw new UsageError(`<run> must be a run id (a number), got "${runId}"`);
      await withRegistry(command, 'current', async (registry) => {
        await getRun(registry.db, runId); // NotFoundError (exit 2); a lost connection stays exit 3
        const rows = await listRunCheckpoints(registry.db, runId);
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(
          formatTable(
            ['checkpoint', 'epoch', 'step', 'train loss', 'val loss', 'bytes', 'store', 'uri', 'written'],
            rows.map((c) => [c.id, c.virtual_epoch, c.global_step, c.train_loss?.toPrecision(5), c.val_loss?.toPrecision(5), c.bytes, c.store, c.uri, c.created_at.toISOString()]),
          ),
        );
      });
    });

  program
    .command('scan')
    .description('register every complete partition under the data dir once (what the daemon does at start), then exit')
    .option('--json', 'print the outcome counts as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withRegistry(command, 'migrate', async (registry, log, config) => {
        const counts: Record<string, number> = { registered: 0, rejected: 0, duplicate: 0, vanished: 0, failed: 0 };
        const watcher = new PartitionWatcher({ db: registry.db, config, log });
        watcher.on('outcome', (outcome) => (counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1));
        watcher.on('failure', () => (counts.failed = (counts.failed ?? 0) + 1));
        await watcher.scan();
        print(options.json ? JSON.stringify(counts) : formatTable(['outcome', 'partitions'], Object.entries(counts)));
        if (counts.failed) process.exitCode = EXIT.failure;
      });
    });

  program
    .command('partitions')
    .description('list registered, rejected and superseded partitions with rows and errors')
    .addOption(new Option('--status <status>', 'only this status').choices(['registered', 'rejected', 'superseded']))
    .option('--limit <n>', 'most rows to show (newest first)', (v) => positiveInt('--limit', v), 100)
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: PartitionStatus; limit: number; json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry) => {
        const rows = await listPartitions(registry.db, { status: options.status, limit: options.limit });
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(formatTable(['id', 'path', 'v', 'status', 'rows', 'arrived', 'error'], rows.map((r) => [r.id, r.path, r.version, r.status, r.row_count, r.arrived_at.toISOString(), r.error])));
      });
    });

  program
    .command('config')
    .description('print the effective configuration (file, defaults and environment overrides) as JSON')
    .option('--reference', 'print every key with its default and meaning as a Markdown table (as in the README)')
    .action((options: { reference?: boolean }, command: Command) => {
      if (options.reference) return print(configReferenceTable());
      const { config } = setup(command);
      const redacted = config.database.url ? { ...config, database: { ...config.database, url: redactUrl(config.database.url) } } : config;
      print(JSON.stringify(redacted, null, 2));
    });

  const runRole = (role: DaemonRole) => async (_options: unknown, command: Command) => {
    const { config, log } = setup(command);
    const controller = shutdownOnSignals(log, config.daemon.shutdownTimeoutSeconds);
    try {
      await runDaemon({ config, log, signal: controller.signal, role });
    } catch (error) {
      if (controller.signal.aborted) return; // interrupted while still starting: a clean stop
      throw error;
    }
  };

  program
    .command('daemon')
    .description('run freshet until SIGTERM/SIGINT: registry (embedded unless DATABASE_URL), migrations, partition watcher, retrain scheduler, a job worker, /metrics')
    .action(runRole('all'));

  program
    .command('worker')
    .description('run only a job worker (claims and runs retrain jobs from the shared queue) until SIGTERM/SIGINT; to scale training out to other machines')
    .action(runRole('worker'));

  program
    .command('jobs')
    .description('list the job queue: state, attempts, lease holder, errors (newest first)')
    .addOption(new Option('--state <state>', 'only this state').choices(['queued', 'running', 'succeeded', 'failed', 'cancelled']))
    .option('--limit <n>', 'most rows to show', (v) => positiveInt('--limit', v), 50)
    .option('--json', 'machine-readable output')
    .action(async (options: { state?: JobState; limit: number; json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry) => {
        const rows = await listJobs(registry.db, { state: options.state, limit: options.limit });
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(
          formatTable(
            ['id', 'kind', 'lineage', 'state', 'trigger', 'attempts', 'run at', 'locked by', 'lease until', 'error'],
            rows.map((j) => [j.id, j.kind, j.payload.lineage, j.state, j.trigger, `${j.attempts}/${j.max_attempts}`, j.run_at.toISOString(), j.locked_by, j.lease_expires_at?.toISOString(), j.last_error]),
          ),
        );
      });
    });

  program
    .command('retrain')
    .description('enqueue a retrain of the lineage now, whatever the retrain policy says (a daemon or worker runs it)')
    .option('--lineage <name>', 'lineage to retrain (default: the configured one)')
    .option('--json', 'print the job as JSON')
    .action(async (options: { lineage?: string; json?: boolean }, command: Command) => {
      await withRegistry(command, 'migrate', async (registry, _log, config) => {
        const { job, created } = await enqueueRetrain(registry.db, {
          lineage: options.lineage ?? config.lineage,
          trigger: 'manual',
          maxAttempts: config.queue.maxAttempts,
          reason: `requested by ${os.userInfo().username} with freshet retrain`,
        });
        if (options.json) return print(JSON.stringify({ created, job }, null, 2));
        print(created ? `enqueued job ${job.id} (retrain of ${job.payload.lineage})` : `job ${job.id} already ${job.state} for ${job.payload.lineage}; not enqueued again`);
      });
    });

  program
    .command('train')
    .description('run one training run in the foreground: resumes the lineage\'s unfinished run, else starts one')
    .option('--from <checkpoint>', 'start a new run from this checkpoint id (full state; early-stopping counters reset)')
    .option('--resume <run>', 'resume this unfinished run from its newest good checkpoint')
    .option('--new', 'start a new run even if an unfinished one exists')
    .option('--epochs <n>', 'virtual epochs to train (default: training.numCheckpoints)', (v) => positiveInt('--epochs', v))
    .option('--json', 'print the result as JSON')
    .action(async (options: TrainCommandOptions, command: Command) => {
      const { config, log } = setup(command);
      const controller = shutdownOnSignals(log, config.daemon.shutdownTimeoutSeconds);
      const registry = await openConfiguredRegistry({ config, log, wait: 'once' });
      try {
        await migrateToLatest(registry.db);
        const { weightBytes: _weights, ...result } = await trainCommand({ db: registry.db, config, log, signal: controller.signal }, options);
        print(options.json ? JSON.stringify(result, null, 2) : formatTable(['run', 'status', 'step', 'virtual epoch', 'val loss', 'checkpoint'], [
          [result.runId, result.status, result.globalStep, result.virtualEpoch, result.valLoss?.toPrecision(6), result.resultCheckpointId],
        ]));
        if (result.status === 'interrupted') process.stderr.write(`interrupted: resume with \`freshet train --resume ${result.runId}\`\n`);
      } finally {
        await registry.close();
      }
    });

  program
    .command('plateau')
    .description('the training-loss curve behind a run or a lineage\'s champion as a sparkline, with the plateau start (P) and the checkpoint before it that the plateau rule chooses (^)')
    .argument('[run|lineage]', 'a run id, or a lineage name (default: the configured lineage)')
    .option('--json', 'machine-readable output')
    .action(async (target: string | undefined, options: { json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const report = await plateauReport(registry.db, config, target ?? config.lineage);
        print(options.json ? JSON.stringify(report, null, 2) : formatPlateau(report));
      });
    });

  program
    .command('models')
    .description('model versions of the lineage, the champion, and the decisions (promotions, rejections, manual changes, rollbacks)')
    .option('--lineage <name>', 'lineage (default: the configured one)')
    .option('--json', 'machine-readable output')
    .action(async (options: { lineage?: string; json?: boolean }, command: Command) => {
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const report = await modelsReport(registry.db, options.lineage ?? config.lineage);
        print(options.json ? JSON.stringify(report, null, 2) : formatModels(report));
      });
    });

  program
    .command('promote')
    .description('make a model version the champion by hand (recorded with who and why) and switch serving/current to it')
    .argument('<version>', 'version number (see `freshet models`)', (v) => positiveInt('<version>', v))
    .option('--reason <text>', 'why, for the audit trail', '')
    .action(async (version: number, options: { reason: string }, command: Command) => {
      await withRegistry(command, 'current', async (registry, log, config) => {
        print(await promoteCommand(registry.db, config, log, version, options.reason));
      });
    });

  program
    .command('rollback')
    .description('make the previous champion (the one the current champion replaced) the champion again, recorded with who and why')
    .option('--reason <text>', 'why, for the audit trail', '')
    .action(async (options: { reason: string }, command: Command) => {
      await withRegistry(command, 'current', async (registry, log, config) => {
        print(await rollbackCommand(registry.db, config, log, options.reason));
      });
    });

  program
    .command('demo')
    .description('the whole loop on generated taxi-fare data, on an embedded PostgreSQL of its own: first model, daily partitions with drift and a sudden shift, plateau choice, retrains, the gate, promotions and rejections, then a summary')
    .option('--dir <dir>', 'working folder (emptied first)', '.freshet/demo')
    .option('--days <n>', 'days fed one at a time after a 3-day backfill', (v) => positiveInt('--days', v), 7)
    .option('--rows <n>', 'trips per day', (v) => positiveInt('--rows', v), 6000)
    .option('--verbose', 'show the daemon\'s info logs on stderr')
    .action(async (options: { dir: string; days: number; rows: number; verbose?: boolean }) => {
      const logLevel = options.verbose ? 'info' : 'warn';
      // The daemon's default shutdown bound: the demo stops a daemon it runs in this process.
      const controller = shutdownOnSignals(createLogger({ level: logLevel, format: 'auto' }), 30);
      await runDemo({ dir: path.resolve(options.dir), days: options.days, rowsPerDay: options.rows, shiftDay: 6, logLevel, signal: controller.signal, out: print });
    });

  return program;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (thrown) {
    // Commander already printed its usage errors (and help and --version end here with 0).
    if (thrown instanceof CommanderError) return exitCodeFor(thrown);
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
