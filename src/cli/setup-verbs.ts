// `freshet init`, `migrate`, `config`: setting a project up.
import type { Command } from 'commander';
import { configReferenceTable } from '../core/config.ts';
import { migrateToLatest, redactUrl } from '../registry/index.ts';
import { initProject } from './init-command.ts';
import { print, setup, withRegistry } from './verb-support.ts';

export function addSetupVerbs(program: Command): void {
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
    .command('config')
    .description('print the effective configuration (file, defaults and environment overrides) as JSON')
    .option('--reference', 'print every key with its default and meaning as a Markdown table (as in the README)')
    .action((options: { reference?: boolean }, command: Command) => {
      if (options.reference) return print(configReferenceTable());
      const { config } = setup(command);
      const redacted = config.database.url ? { ...config, database: { ...config.database, url: redactUrl(config.database.url) } } : config;
      print(JSON.stringify(redacted, null, 2));
    });
}
