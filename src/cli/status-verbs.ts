// `freshet status` and `freshet demo`: what to look at first, and the whole loop on generated data.
import path from 'node:path';
import type { Command } from 'commander';
import { shutdownOnSignals } from '../core/shutdown.ts';
import { positiveInt, print, withRegistry } from './verb-support.ts';

export function addStatusVerbs(program: Command): void {
  program
    .command('status')
    .description('what to look at first: champion and its metric, data freshness, job queue, latest runs and decisions, schema and rows per table')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { lineagesOverview, statusReport } = await import('../observability/index.ts');
      const { formatOverview, formatStatus } = await import('./status-text.ts');
      const { lineageConfig, lineageConfigs } = await import('../core/lineage-configs.ts');
      const named = command.optsWithGlobals<{ lineage?: string }>().lineage;
      await withRegistry(
        command,
        'any',
        async (registry, _log, config) => {
          // One lineage (named, or the only one): its whole report; several: one line each.
          const lineages = lineageConfigs(config);
          if (named !== undefined || lineages.length === 1) {
            const report = await statusReport(registry.db, lineageConfig(config, named));
            return print(options.json ? JSON.stringify(report, null, 2) : formatStatus(report));
          }
          const overview = await lineagesOverview(registry.db, lineages);
          print(options.json ? JSON.stringify(overview, null, 2) : formatOverview(overview));
        },
        'all',
      );
    });

  program
    .command('demo')
    .description('the whole loop on generated taxi-fare data, on an embedded PostgreSQL of its own: first model, daily partitions with drift and a sudden shift, plateau choice, retrains, the gate, promotions and rejections, then a summary')
    .option('--dir <dir>', 'working folder: created, or an earlier demo\'s (its data, artifacts, serving, pg and config are replaced); any other non-empty folder is refused', '.freshet/demo')
    .option('--force', 'reuse a non-empty folder that is not an earlier demo\'s: its data/, artifacts/, serving/, pg/ and freshet.config.yaml are replaced, nothing else is touched')
    .option('--days <n>', 'days fed one at a time after a 3-day backfill', (v) => positiveInt('--days', v), 7)
    .option('--rows <n>', 'trips per day', (v) => positiveInt('--rows', v), 6000)
    .option('--verbose', 'show the daemon\'s info logs on stderr')
    .action(async (options: { dir: string; days: number; rows: number; verbose?: boolean; force?: boolean }) => {
      const { runDemo } = await import('../demo/index.ts');
      const logLevel = options.verbose ? 'info' : 'warn';
      // The daemon's default shutdown bound: the demo stops a daemon it runs in this process.
      const { createLogger } = await import('../core/log.ts');
      const controller = shutdownOnSignals(createLogger({ level: logLevel, format: 'auto' }), 30);
      await runDemo({ dir: path.resolve(options.dir), force: options.force ?? false, days: options.days, rowsPerDay: options.rows, shiftDay: 6, logLevel, signal: controller.signal, out: print });
    });
}
