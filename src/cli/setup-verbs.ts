// `freshet init`, `migrate`, `config`: setting a project up.
import type { Command } from 'commander';
import { print, setup, withRegistry } from './verb-support.ts';

export function addSetupVerbs(program: Command): void {
  program
    .command('init')
    .description('write a commented starter freshet.config.yaml and the data-dir layout')
    .argument('[dir]', 'project directory', '.')
    .option('--force', 'overwrite an existing freshet.config.yaml')
    .action(async (dir: string, options: { force?: boolean }) => {
      const { initProject } = await import('./init-command.ts');
      const { configFile, created } = initProject(dir, { force: options.force ?? false });
      for (const file of created) print(`created ${file}`);
      print(`\nNext: edit ${configFile}, then run \`freshet daemon\`.`);
    });

  program
    .command('migrate')
    .description('apply pending registry migrations (safe to run twice, or from two processes at once)')
    .action(async (_options: unknown, command: Command) => {
      const { migrateToLatest } = await import('../registry/index.ts');
      await withRegistry(
        command,
        'any',
        async (registry, log) => {
          const { applied, version } = await migrateToLatest(registry.db);
          log.info({ applied, schemaVersion: version }, applied.length ? 'migrations applied' : 'schema already current');
          print(applied.length ? `applied ${applied.join(', ')}; schema version ${version}` : `schema already current: ${version}`);
        },
        'all',
      );
    });

  program
    .command('config')
    .description('print the effective configuration (file, defaults and environment overrides) as JSON')
    .option('--reference', 'print every key with its default and meaning as a Markdown table (as in the README)')
    .action(async (options: { reference?: boolean }, command: Command) => {
      const { configReferenceTable } = await import('../core/config.ts');
      const { redactUrl } = await import('../registry/index.ts');
      if (options.reference) return print(configReferenceTable());
      // With --lineage: that lineage's whole configuration (the top level merged with its keys).
      const { config } = await setup(command, { oneShot: true, scope: command.optsWithGlobals<{ lineage?: string }>().lineage === undefined ? 'all' : 'lineage' });
      const redacted = config.database.url ? { ...config, database: { ...config.database, url: redactUrl(config.database.url) } } : config;
      print(JSON.stringify(redacted, null, 2));
    });
}
