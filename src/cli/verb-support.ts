// What every verb shares: the configuration and logger from the global options, the
// registry opened (and always closed) for a one-shot command, output, argument parsing.
//
// Nothing heavy is imported at the top of the CLI's files: `freshet --help` and a mistyped
// verb load commander alone; each verb loads what it uses when it runs (configuration,
// logger, registry, TensorFlow.js only for the verbs that train or predict).
import { InvalidArgumentError, type Command } from 'commander';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { RegistryHandle } from '../registry/index.ts';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  verbose?: boolean;
  lineage?: string;
}

/**
 * What a verb works on: `lineage` (one lineage's configuration: the one `--lineage` names,
 * or the only one), `all` (the whole configuration: status, jobs, migrate), or `daemon`
 * (the whole configuration, `--lineage` restricting the lineages it runs).
 */
export type VerbScope = 'lineage' | 'all' | 'daemon';

/**
 * The configuration and a logger for a verb. A one-shot verb (`oneShot`) prints its answer
 * on stdout and logs only warnings and errors (on stderr) unless `--verbose`,
 * `--log-level` or FRESHET_LOG__LEVEL asks for more; the daemon, worker, demo and
 * backtest log at log.level.
 */
export async function setup(command: Command, { oneShot = false, scope = 'lineage' }: { oneShot?: boolean; scope?: VerbScope } = {}): Promise<{ config: ResolvedConfig; log: Logger }> {
  const [{ loadConfig }, { createLogger, quieterLevel }, { lineageConfig }] = await Promise.all([import('../core/config.ts'), import('../core/log.ts'), import('../core/lineage-configs.ts')]);
  const options = command.optsWithGlobals<GlobalOptions>();
  const env = { ...process.env };
  if (options.logLevel) env.FRESHET_LOG__LEVEL = options.logLevel;
  else if (options.verbose) env.FRESHET_LOG__LEVEL = 'info';
  if (scope === 'daemon' && options.lineage !== undefined) env.FRESHET_QUEUE__LINEAGES = JSON.stringify([options.lineage]);
  const whole = loadConfig({ file: options.config, env });
  const config = scope === 'lineage' ? lineageConfig(whole, options.lineage) : whole;
  if ([config.dataDir, config.artifactsUri ?? ''].some((l) => /^s3:\/\//i.test(l))) (await import('../data/index.ts')).configureDoorsFor([config.dataDir, config.artifactsUri ?? ''], config.s3); // s3:// locations through the S3 door
  if (scope === 'all' && options.lineage !== undefined) lineageConfig(whole, options.lineage); // an unknown name is refused, naming the configured ones
  // An explicit ask (a flag, or FRESHET_LOG__LEVEL for this invocation) wins; log.level in the file is the daemon's.
  const explicit = options.logLevel !== undefined || options.verbose === true || process.env.FRESHET_LOG__LEVEL !== undefined;
  const level = oneShot && !explicit ? quieterLevel(config.log.level, 'warn') : config.log.level;
  return { config, log: createLogger({ ...config.log, level }) };
}

/**
 * What a one-shot command needs of the schema: `current` (it reads the tables: refuse a
 * schema behind or ahead with a clear message), `migrate` (it writes: bring it up to date
 * first), `any` (it reports on the schema itself, or migrates it).
 */
export type SchemaNeed = 'current' | 'migrate' | 'any';

/** Opens the registry for a one-shot command and always closes it (and any embedded server). */
export async function withRegistry<T>(command: Command, schema: SchemaNeed, work: (registry: RegistryHandle, log: Logger, config: ResolvedConfig) => Promise<T>, scope: VerbScope = 'lineage'): Promise<T> {
  const { config, log } = await setup(command, { oneShot: true, scope });
  const { assertSchemaCurrent, migrateToLatest, openConfiguredRegistry } = await import('../registry/index.ts');
  const registry = await openConfiguredRegistry({ config, log, wait: 'once' });
  try {
    if (schema === 'current') await assertSchemaCurrent(registry.db);
    else if (schema === 'migrate') await migrateToLatest(registry.db);
    return await work(registry, log, config);
  } finally {
    await registry.close();
  }
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}
