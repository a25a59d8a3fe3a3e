// What every verb shares: the configuration and logger from the global options, the
// registry opened (and always closed) for a one-shot command, output, argument parsing.
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, type ResolvedConfig } from '../core/config.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { assertSchemaCurrent, migrateToLatest, openConfiguredRegistry, type RegistryHandle } from '../registry/index.ts';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

export function setup(command: Command): { config: ResolvedConfig; log: Logger } {
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
export type SchemaNeed = 'current' | 'migrate' | 'any';

/** Opens the registry for a one-shot command and always closes it (and any embedded server). */
export async function withRegistry<T>(command: Command, schema: SchemaNeed, work: (registry: RegistryHandle, log: Logger, config: ResolvedConfig) => Promise<T>): Promise<T> {
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

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}
