// `freshet train`, `runs`, `checkpoints`, `plateau`: training runs and what they kept.
import fs from 'node:fs';
import type { Command } from 'commander';
import { shutdownOnSignals } from '../core/shutdown.ts';
import { NotFoundError } from '../core/errors.ts';
import { formatTable } from '../core/table.ts';
import type { TrainCommandOptions } from './train-command.ts';
import { UsageError } from './usage-error.ts';
import { positiveInt, print, setup, withRegistry } from './verb-support.ts';

export function addTrainingVerbs(program: Command): void {
  addTrainVerb(program);
  addRunsVerb(program);
  addCheckpointsVerb(program);
  addPlateauVerb(program);
}

function addTrainVerb(program: Command): void {
  program
    .command('train')
    .description('run one training run in the foreground: resumes the lineage\'s unfinished run, else starts one')
    .option('--from <checkpoint>', 'start a new run from this checkpoint id (full state; early-stopping counters reset)')
    .option('--resume <run>', 'resume this unfinished run from its newest good checkpoint')
    .option('--new', 'start a new run even if an unfinished one exists')
    .option('--epochs <n>', 'virtual epochs to train (default: training.numCheckpoints)', (v) => positiveInt('--epochs', v))
    .option('--json', 'print the result as JSON')
    .action(async (options: TrainCommandOptions, command: Command) => {
      const { migrateToLatest, openConfiguredRegistry } = await import('../registry/index.ts');
      const { trainCommand } = await import('./train-command.ts');
      const { config, log } = await setup(command);
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
}

function addRunsVerb(program: Command): void {
  program
    .command('runs')
    .description('training runs of the lineage, newest first: kind, status, base checkpoint, epochs, result, errors')
    .option('--limit <n>', 'most rows to show', (v) => positiveInt('--limit', v), 20)
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      const { findLineageByName, listRuns } = await import('../registry/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const lineage = await findLineageByName(registry.db, config.lineage);
        const rows = lineage ? await listRuns(registry.db, { lineageId: lineage.id, limit: options.limit }) : [];
        if (options.json) return print(JSON.stringify(rows, null, 2));
        print(
          formatTable(
            ['run', 'kind', 'status', 'job', 'base', 'target epochs', 'result', 'started', 'finished', 'invalid rows', 'error'],
            rows.map((r) => [r.id, r.kind, r.still_falling ? `${r.status}, loss still falling (${(100 * (r.val_loss_gain ?? 0)).toFixed(1)}% at the last check)` : r.status, r.job_id, r.base_checkpoint_id, r.target_virtual_epochs, r.result_checkpoint_id, r.started_at.toISOString(), r.finished_at?.toISOString(), r.invalid_rows, r.error]),
          ),
        );
      });
    });
}

function addCheckpointsVerb(program: Command): void {
  program
    .command('checkpoints')
    .description('the checkpoints a run kept: virtual epoch, step, losses, size, store and location')
    .argument('<run>', 'run id (see `freshet runs`)')
    .option('--json', 'machine-readable output')
    .action(async (runId: string, options: { json?: boolean }, command: Command) => {
      const { getRun, listRunCheckpoints } = await import('../registry/index.ts');
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
}

function addPlateauVerb(program: Command): void {
  program
    .command('plateau')
    .description('the training-loss curve behind a run or a lineage\'s champion as sparklines: per logged step (log axis, smoothed) with the knee (K) and the checkpoint the pre-plateau rule chooses (^), and per virtual epoch')
    .argument('[run|lineage]', 'a run id, or a lineage name (default: the configured lineage)')
    .option('--json', 'machine-readable output')
    .option('--svg <file>', 'also write the step-level curve with the knee and the pre-plateau checkpoint as an SVG file (as the status page draws it)')
    .action(async (target: string | undefined, options: { json?: boolean; svg?: string }, command: Command) => {
      const { plateauReport } = await import('../selection/index.ts');
      const { formatPlateau } = await import('./model-commands.ts');
      const { stepLossChartSvg } = await import('../observability/index.ts');
      await withRegistry(command, 'current', async (registry, _log, config) => {
        const report = await plateauReport(registry.db, config, target ?? config.lineage);
        if (options.svg) {
          const svg = stepLossChartSvg(report);
          if (!svg) throw new NotFoundError(`run ${report.run} has fewer than two logged loss points: no curve to draw`);
          fs.writeFileSync(options.svg, `${svg}\n`);
        }
        print(options.json ? JSON.stringify(report, null, 2) : formatPlateau(report));
      });
    });
}
