// `freshet init`, `migrate`, `config`: setting a project up.
import type { Command } from 'commander';
import { UsageError } from './usage-error.ts';
import { print, setup, withRegistry } from './verb-support.ts';

export function addSetupVerbs(program: Command): void {
  program
    .command('init')
    .description('write a commented starter freshet.config.yaml and the data-dir layout; with --lineage NAME, add lineage NAME (its own data/NAME folder) to the configuration')
    .argument('[dir]', 'project directory', '.')
    .option('--force', 'overwrite an existing freshet.config.yaml')
    .action(async (dir: string, options: { force?: boolean }, command: Command) => {
      const { addLineage, initProject } = await import('./init-command.ts');
      const name = command.optsWithGlobals<{ lineage?: string }>().lineage;
      let result;
      if (name === undefined) result = initProject(dir, { force: options.force ?? false });
      else {
        const { LINEAGE_NAME, loadConfig } = await import('../core/config.ts');
        if (!LINEAGE_NAME.test(name)) throw new UsageError(`--lineage ${JSON.stringify(name)}: a lineage name is 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
        // The lineage a single-lineage file runs today keeps its name when the file gets a second one.
        result = addLineage(dir, name, { lineageName: (file) => loadConfig({ file, env: {} }).lineage });
        loadConfig({ file: result.configFile, env: {} }); // the edited file must load: say so now, not at the daemon's start
      }
      for (const file of result.created) print(`${name === undefined ? 'created' : 'wrote'} ${file}`);
      print(`\nNext: edit ${result.configFile}, then run \`freshet daemon\`.`);
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
