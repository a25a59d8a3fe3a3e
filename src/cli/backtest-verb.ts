// `freshet backtest <dir>`: replay a partition history through the real loop on a
// throwaway embedded registry and report how every decision held forward.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { shutdownOnSignals } from '../core/shutdown.ts';
import { formatTable } from '../core/table.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import type { BacktestSummary } from '../backtest/index.ts';
import { formatCount, formatShare, shareOfClairvoyant } from '../core/decision-gain.ts';
import { formatSkill } from '../core/format-skill.ts';
import { positiveInt, print, type GlobalOptions } from './verb-support.ts';
import { UsageError } from './usage-error.ts';

const num = (n: number | null | undefined): string | null => (n === null || n === undefined ? null : n.toPrecision(5));

/** `eval.holdout=random` → the environment override FRESHET_EVAL__HOLDOUT=random (the config's own mechanism). */
export function setToEnvironment(assignment: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = assignment.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--set ${assignment}: expected key=value, e.g. eval.holdout=random`);
  const key = assignment.slice(0, at);
  if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) throw new InvalidArgumentError(`--set ${assignment}: ${key} is not a configuration key path (see \`freshet config --reference\`)`);
  const variable = `FRESHET_${key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')}`;
  return { ...previous, [variable]: assignment.slice(at + 1) };
}

/** The decisions' share of the clairvoyant gate's gain beside the gate that promotes everything (backtest.ts › decisionGain). */
export function gainLine(summary: Pick<BacktestSummary, 'decisionGain'>): string {
  const gain = summary.decisionGain;
  const captured = shareOfClairvoyant(gain.captured, gain);
  if (captured === null) return 'no checked decision had a better candidate (nothing to gain)';
  const always = shareOfClairvoyant(gain.alwaysPromote, gain)!;
  return `${formatShare(captured)} of the forward gain a clairvoyant gate would have taken (promoting every candidate: ${formatShare(always)})`;
}

export function formatBacktest(summary: BacktestSummary): string {
  const table = formatTable(
    ['step', 'partitions', 'rows', 'serving (forward)', 'naive (forward)', 'decision', 'candidate', 'champion', 'previous decision held'],
    summary.steps.map((s) => [
      s.step,
      s.partitions.length === 1 ? s.partitions[0] : `${s.partitions[0]} … ${s.partitions.at(-1)} (${s.partitions.length})`,
      s.rows || null,
      num(s.forward),
      num(s.forwardNaive),
      s.decision,
      num(s.candidate),
      num(s.champion),
      s.previousHeld ? `${s.previousHeld.right ? 'yes' : 'NO'} (candidate ${num(s.previousHeld.candidate)}, ${s.previousHeld.against} ${num(s.previousHeld.champion)})` : null,
    ]),
  );
  return [
    table,
    '',
    `forward ${summary.metric} of what served: ${num(summary.forward) ?? '-'}; naive baseline: ${num(summary.forwardNaive) ?? '-'}; skill ${formatSkill(summary.skill) ?? '-'}`,
    `decisions checked on the next step: right ${formatCount(summary.right, summary.checked)}; promoted but worse ${formatCount(summary.promotedButWorse, summary.promotionsChecked)} of the promotions that could be checked (of ${summary.promotions}: the first model and a last step's cannot be); rejected but better ${summary.rejectedButBetter}`,
    `what the decisions were worth on the next step: ${gainLine(summary)}`,
    `forward scores are on every row of each step's partitions (${summary.steps.reduce((n, s) => n + s.rows, 0)} rows); a fallback is checked against the constant that served after it`,
    `${summary.steps.length} steps in ${humanSeconds(summary.seconds)}`,
  ].join('\n');
}

/** What a replay of a history needs, shared by backtest and tune: the history, the warm-up and the step. */
export function historyArguments(command: Command): Command {
  return command
    .argument('<dir>', 'a partition tree (dt=…/ with completion markers) to replay')
    .option('--warmup <n>', 'partitions the first model trains on', (v) => positiveInt('--warmup', v), 7)
    .option('--step <n>', 'partitions that arrive per retrain', (v) => positiveInt('--step', v), 1);
}

export function addBacktestVerb(program: Command): void {
  historyArguments(
    program
      .command('backtest')
      .description('replay a partition history in key order through the real loop (watcher scan, queue, retrain, gate, export) on a throwaway embedded registry; report each decision forward'),
  )
    .option('--set <key=value>', 'override a configuration key for this replay (repeatable), e.g. --set eval.holdout=random', setToEnvironment, {})
    .option('--work-dir <dir>', 'where the throwaway registry, data and artifacts go (default: a new temp folder, removed after)')
    .option('--report <file>', 'also write the per-step table and summary as JSON to this file')
    .option('--json', 'print the summary as JSON')
    .option('--save-warmup <dir>', 'keep the state after the first model (step 0) in this new folder, for --from-warmup')
    .option('--from-warmup <dir>', 'continue from a state kept by --save-warmup instead of training the first model again (only retrain.* keys may differ; the report is the one a full replay gives)')
    .action(async (dir: string, options: { warmup: number; step: number; set: Record<string, string>; workDir?: string; report?: string; json?: boolean; saveWarmup?: string; fromWarmup?: string }, command: Command) => {
      if (options.saveWarmup && fs.existsSync(options.saveWarmup)) throw new UsageError(`--save-warmup ${options.saveWarmup} exists: it is not overwritten (name a new folder)`);
      const { loadConfig } = await import('../core/config.ts');
      const { openRegistry, startThrowawayPostgres } = await import('../registry/index.ts');
      const { runBacktest } = await import('../backtest/index.ts');
      const { BacktestProgress } = await import('./backtest-progress.ts');
      const globals = command.optsWithGlobals<GlobalOptions>();
      const workDir = path.resolve(options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-backtest-')));
      fs.mkdirSync(workDir, { recursive: true, mode: 0o755 });
      fs.chmodSync(workDir, 0o755); // the embedded server (as root: another user) must enter it
      const { createLogger } = await import('../core/log.ts');
      const baseLog = createLogger({ level: globals.logLevel === undefined ? 'warn' : (globals.logLevel as 'warn'), format: 'auto' });
      const { server } = await startThrowawayPostgres(path.join(workDir, 'pg'), 'backtest', baseLog, (why, moved) => process.stderr.write(`freshet backtest: ${why}: the registry goes to ${moved}\n`));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...options.set,
        DATABASE_URL: server.url,
        FRESHET_DATA_DIR: path.join(workDir, 'data'),
        FRESHET_ARTIFACTS_DIR: path.join(workDir, 'artifacts'),
        FRESHET_SERVING_DIR: path.join(workDir, 'serving'),
        ...(globals.logLevel ? { FRESHET_LOG__LEVEL: globals.logLevel } : { FRESHET_LOG__LEVEL: 'warn' }),
      };
      const config = loadConfig({ file: globals.config, env });
      const log = createLogger(config.log);
      const db = openRegistry(server.url, { connectTimeoutSeconds: 10 });
      const controller = shutdownOnSignals(log, config.daemon.shutdownTimeoutSeconds);
      const progress = options.json ? undefined : new BacktestProgress(process.stderr);
      try {
        const summary = await runBacktest({
          sourceDir: path.resolve(dir),
          config,
          db,
          warmup: options.warmup,
          step: options.step,
          log,
          signal: controller.signal,
          onStep: (s, index, total) => progress?.step(s, index, total),
          observer: progress?.observer,
          saveWarmup: options.saveWarmup && path.resolve(options.saveWarmup),
          fromWarmup: options.fromWarmup && path.resolve(options.fromWarmup),
        });
        progress?.finish();
        if (options.report) fs.writeFileSync(options.report, `${JSON.stringify({ source: path.resolve(dir), warmup: options.warmup, step: options.step, set: options.set, ...summary }, null, 2)}\n`);
        print(options.json ? JSON.stringify(summary, null, 2) : formatBacktest(summary));
      } finally {
        progress?.finish();
        await db.destroy();
        await server.stop();
        if (!options.workDir) fs.rmSync(workDir, { recursive: true, force: true });
      }
    });
}
