// `freshet init`, `migrate`, `config`: setting a project up.
import type { Command } from 'commander';
import { UsageError } from './usage-error.ts';
import { print, setup, withRegistry } from './verb-support.ts';

export function addSetupVerbs(program: Command): void {
  program
    .command('init')
    .description('write a commented starter freshet.config.yaml and the data-dir layout; with --from <partition>, its columns typed from that sample; with --lineage NAME, add lineage NAME (its own data/NAME folder) to the configuration')
    .argument('[dir]', 'project directory', '.')
    .option('--force', 'overwrite an existing freshet.config.yaml')
    .option('--from <partition>', 'type the columns from a sample partition folder (numeric, categorical; ids, constants, dates and mostly-missing columns left out, each with its reason in a comment)')
    .option('--label <column>', 'with --from: the column to predict (asked for on a terminal when not given)')
    .action(async (dir: string, options: { force?: boolean; from?: string; label?: string }, command: Command) => {
      const { addLineage, initProject } = await import('./init-command.ts');
      const name = command.optsWithGlobals<{ lineage?: string }>().lineage;
      if (options.label !== undefined && options.from === undefined) throw new UsageError('--label goes with --from <partition>');
      if (options.from !== undefined && name !== undefined) throw new UsageError('--from types a new configuration; with --lineage, add the lineage first, then set its columns');
      let result;
      if (options.from !== undefined) {
        const { initFromPartition } = await import('./init-from.ts');
        const { askLabel } = await import('./ask-label.ts');
        const typed = await initFromPartition(dir, options.from, { force: options.force ?? false, label: options.label, ask: process.stdin.isTTY ? askLabel : undefined });
        const { formatTable } = await import('../core/table.ts');
        print(formatTable(['column', 'role', 'why'], typed.roles.map((r) => [r.name, r.role, r.reason])));
        print('');
        result = typed;
      } else if (name === undefined) result = initProject(dir, { force: options.force ?? false });
      else {
        const { LINEAGE_NAME, loadConfig } = await import('../core/config.ts');
        if (!LINEAGE_NAME.test(name)) throw new UsageError(`--lineage ${JSON.stringify(name)}: a lineage name is 1–63 letters, digits, dots, dashes or underscores, starting with a letter or digit`);
        // The lineage a single-lineage file runs today keeps its name when the file gets a second one.
        result = addLineage(dir, name, { lineageName: (file) => loadConfig({ file, env: {} }).lineage });
        loadConfig({ file: result.configFile, env: {} }); // the edited file must load: say so now, not at the daemon's start
      }
      for (const file of result.created) print(`${name === undefined ? 'created' : 'wrote'} ${file}`);
      print(options.from !== undefined ? `\nNext: check the columns in ${result.configFile} (each choice is explained above them), then run \`freshet daemon\`.` : `\nNext: edit ${result.configFile}, then run \`freshet daemon\`.`);
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
