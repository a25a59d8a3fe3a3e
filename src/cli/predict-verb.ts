// `freshet predict`: batch scoring with the champion (or a version) from raw rows.
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { NotFoundError } from '../core/errors.ts';
import { EXIT } from './exit-status.ts';
import { positiveInt, withRegistry } from './verb-support.ts';

export function addPredictVerb(program: Command): void {
  program
    .command('predict')
    .description(
      'score raw rows with the champion (or --model-version N): a data file or a partition folder (CSV, JSON Lines, Parquet) in, one row per scored row out ' +
        '(the --id value, else the line, and the prediction); a row with a missing or bad value is reported on stderr by file, line and field and skipped. ' +
        'Exit 0: every row scored; 1: some rows were rejected (the rest are in the output); 2: no such version, or no champion yet',
    )
    .requiredOption('--input <path>', 'a data file, or a folder of data files (e.g. a partition)')
    .option('--output <file>', 'where to write the predictions (default: stdout)')
    // Not --version: commander gives the program's own --version (the package version) precedence anywhere on the line.
    .option('--model-version <n>', 'model version to score with (default: the champion; see `freshet models`)', (v) => positiveInt('--model-version', v))
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('csv'))
    .option('--id <column>', 'copy this input column to each output row (instead of the line number)')
    .action(async (options: { input: string; output?: string; modelVersion?: number; format: 'csv' | 'jsonl'; id?: string }, command: Command) => {
      const { findChampion, findLineageByName, findModelVersion } = await import('../registry/index.ts');
      const { batchPredict, exportVersion, Predictor } = await import('../serving/index.ts');
      const { initBackend } = await import('../trainer/index.ts');
      await withRegistry(command, 'current', async (registry, log, config) => {
        const lineage = await findLineageByName(registry.db, config.lineage);
        if (!lineage) throw new NotFoundError(`lineage "${config.lineage}" has no model yet`);
        const version = options.modelVersion !== undefined ? await findModelVersion(registry.db, lineage.id, options.modelVersion) : (await findChampion(registry.db, config.lineage))?.version;
        if (!version) throw new NotFoundError(options.modelVersion !== undefined ? `lineage "${config.lineage}" has no version ${options.modelVersion} (see \`freshet models\`)` : `lineage "${config.lineage}" has no champion yet`);
        await initBackend(config.training.backend, log);
        const predictor = await Predictor.load(await exportVersion(registry.db, config, version));
        const out = options.output ? fs.openSync(options.output, 'w') : 1;
        try {
          const summary = await batchPredict(predictor, {
            input: options.input,
            idColumn: options.id,
            format: options.format,
            write: (text) => fs.writeSync(out, text),
            onBadRow: (bad) => process.stderr.write(`${bad.file}, line ${bad.line}${bad.field ? `, column ${bad.field}` : ''}: ${bad.message}; row skipped\n`),
          });
          process.stderr.write(
            `scored ${summary.scored} rows (${summary.rejected} rejected) from ${summary.files} file${summary.files === 1 ? '' : 's'} with version ${predictor.version} in ${summary.seconds.toFixed(2)} s (${Math.round(summary.scored / Math.max(summary.seconds, 1e-9))} rows/s)\n`,
          );
          const unseen = Object.entries(summary.unseen);
          if (unseen.length > 0) process.stderr.write(`values the model never saw in training (scored through its out-of-vocabulary buckets): ${unseen.map(([column, n]) => `${column} ${n}`).join(', ')}\n`);
          if (summary.rejected > 0) process.exitCode = EXIT.failure;
        } finally {
          if (out !== 1) fs.closeSync(out);
          predictor.dispose();
        }
      });
    });
}
