// `freshet models`, `promote`, `rollback`: model versions and the champion.
import type { Command } from 'commander';
import { positiveInt, print, withRegistry } from './verb-support.ts';

export function addModelVerbs(program: Command): void {
  program
    .command('models')
    .description('model versions of the lineage, the champion, and the decisions (promotions, rejections, manual changes, rollbacks)')
    .option('--limit <n>', 'most versions and most decisions to show, the newest', (v) => positiveInt('--limit', v), 20)
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      const { formatModels, modelsReport } = await import('./model-commands.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const report = await modelsReport(registry.db, config.lineage, options.limit);
        print(options.json ? JSON.stringify(report, null, 2) : formatModels(report));
      });
    });

  program
    .command('promote')
    .description('make a model version the champion by hand (recorded with who and why) and switch serving/<lineage>/current to it')
    .argument('<version>', 'version number (see `freshet models`)', (v) => positiveInt('<version>', v))
    .option('--reason <text>', 'why, for the audit trail', '')
    .action(async (version: number, options: { reason: string }, command: Command) => {
      const { promoteCommand } = await import('./model-commands.ts');
      await withRegistry(command, 'current', async (registry, log, config) => {
        print(await promoteCommand(registry.db, config, log, version, options.reason));
      });
    });

  program
    .command('rollback')
    .description('make the previous champion (the one the current champion replaced) the champion again, recorded with who and why')
    .option('--reason <text>', 'why, for the audit trail', '')
    .action(async (options: { reason: string }, command: Command) => {
      const { rollbackCommand } = await import('./model-commands.ts');
      await withRegistry(command, 'current', async (registry, log, config) => {
        print(await rollbackCommand(registry.db, config, log, options.reason));
      });
    });
}
