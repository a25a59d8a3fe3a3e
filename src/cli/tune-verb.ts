// `freshet tune <dir>`: a bounded policy search on the user's own history (src/tune/), with
// a progress bar, resumable, two backtests at a time; it writes the winner as a
// configuration overlay beside its evidence table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { humanSeconds } from '../core/human-seconds.ts';
import { statusLineFor } from '../core/status-line.ts';
import { UsageError } from './usage-error.ts';
import { historyArguments } from './backtest-verb.ts';
import { positiveInt, print, type GlobalOptions } from './verb-support.ts';

/** The marker that makes an output folder tune's own: a folder without it is never written into. */
const MARKER = '.freshet-tune';

function seedList(value: string): number[] {
  const seeds = value.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new InvalidArgumentError(`--seeds ${value}: expected whole numbers separated by commas, e.g. 1,2,3`);
  return seeds;
}

/** The output folder: new, or one an earlier tune made (then its reports are reused). */
function prepareOutDir(outDir: string): void {
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0 && !fs.existsSync(path.join(outDir, MARKER))) {
    throw new UsageError(`--out ${outDir} holds files that freshet tune did not write; pass another folder`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, MARKER), 'Written by freshet tune: its reports (runs/), tune.yaml and tune-evidence.md. A later tune with the same history reuses the reports.\n');
}

/**
 * What a backtest's report depends on besides its policy and seed: the history, the
 * warm-up and step, the configuration file's text and the FRESHET_* environment. A tune
 * resumed with any of them changed runs its backtests again.
 */
function reportBasis(sourceDir: string, options: { warmup: number; step: number }, configFile: string | undefined): string {
  const file = path.resolve(configFile ?? process.env.FRESHET_CONFIG ?? 'freshet.config.yaml');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const environment = Object.entries(process.env).filter(([key]) => key.startsWith('FRESHET_')).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify({ sourceDir, warmup: options.warmup, step: options.step, text, environment });
}

export function addTuneVerb(program: Command): void {
  historyArguments(
    program
      .command('tune')
      .description('search for a policy on a partition history with the backtest (held-out partitions, replay, virtual epochs, learning rate, embedding size, crosses, averaged retrains, the naive rules), ranked by forward skill minus its spread over seeds; writes the winner as a configuration overlay beside its evidence table; resumable'),
  )
    .option('--seeds <list>', 'seeds each policy is backtested with', seedList, [1, 2, 3])
    .option('--jobs <n>', 'backtests at a time (each a process on one core)', (v) => positiveInt('--jobs', v), Math.min(2, os.availableParallelism()))
    .option('--dims <keys>', 'search only these configuration keys, comma-separated (default: all that apply)', (v) => v.split(',').map((k) => k.trim()).filter(Boolean))
    .option('--out <dir>', 'where the reports, tune.yaml and tune-evidence.md go; an earlier tune\'s folder is resumed', 'freshet-tune')
    .action(async (dir: string, options: { warmup: number; step: number; seeds: number[]; jobs: number; dims?: string[]; out: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const { loadConfig } = await import('../core/config.ts');
      const { evidenceMarkdown, overlayYaml, runTune, searchSpace } = await import('../tune/index.ts');
      const sourceDir = path.resolve(dir);
      if (!fs.existsSync(sourceDir)) throw new UsageError(`tune: ${sourceDir} does not exist`);
      const config = loadConfig({ file: globals.config, env: process.env });
      let dimensions;
      try {
        dimensions = searchSpace(config, options.dims);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const outDir = path.resolve(options.out);
      prepareOutDir(outDir);
      const controller = new AbortController();
      const interrupt = (): void => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const line = process.stderr.isTTY ? statusLineFor(process.stderr) : undefined;
      const started = performance.now();
      let lastDone = -1;
      try {
        const result = await runTune({
          sourceDir,
          warmup: options.warmup,
          step: options.step,
          seeds: options.seeds,
          jobs: options.jobs,
          outDir,
          dimensions,
          configFile: globals.config ? path.resolve(globals.config) : undefined,
          basis: reportBasis(sourceDir, options, globals.config),
          signal: controller.signal,
          onProgress: ({ done, total, reused, policy }) => {
            const elapsed = (performance.now() - started) / 1000;
            const fresh = done - reused;
            const left = fresh > 0 && total > done ? `, about ${humanSeconds((elapsed / fresh) * (total - done))} left` : '';
            const width = 24;
            const filled = Math.round((done / total) * width);
            if (line) line.set(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} backtests${reused ? ` (${reused} reused)` : ''} · ${policy} · ${humanSeconds(elapsed)}${left}`);
            else if (done !== lastDone) process.stderr.write(`freshet tune: ${done}/${total} backtests done; now ${policy}\n`);
            lastDone = done;
          },
        });
        line?.finish();
        const meta = { date: new Date().toISOString().slice(0, 10), sourceDir, warmup: options.warmup, step: options.step, seeds: options.seeds };
        fs.writeFileSync(path.join(outDir, 'tune.yaml'), overlayYaml(result, meta));
        const evidence = evidenceMarkdown(result, meta);
        fs.writeFileSync(path.join(outDir, 'tune-evidence.md'), evidence);
        print(evidence);
        print(`wrote ${path.join(outDir, 'tune.yaml')} and ${path.join(outDir, 'tune-evidence.md')}`);
      } finally {
        line?.finish();
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}
