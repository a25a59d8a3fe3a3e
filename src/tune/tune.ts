// `freshet tune <dir>`: finds a policy on the user's own history with the backtest. A
// coordinate search over search-space.ts: the configuration as it is first, then each
// dimension's alternatives with the best found so far, each policy backtested over the
// seeds (ranking.ts: forward skill mean minus spread) and kept only when it ranks higher.
// Every backtest is a `freshet backtest --report` child process — its own throwaway
// registry, one core each, `jobs` at a time — whose report is kept under the output folder,
// so an interrupted tune resumes where it stopped. Policies that differ only in keys no
// first model reads (`retrain.*`) share one: the first backtest of a seed keeps its state
// after step 0 (`--save-warmup`) and theirs continue from it (`--from-warmup`), with the
// report a full replay gives.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnlyAfterWarmup, type Dimension } from './search-space.ts';
import { rankPolicy, type PolicyRank, type ReportFigures } from './ranking.ts';

const FRESHET_BIN = fileURLToPath(new URL('../../bin/freshet.mjs', import.meta.url));

export interface TunePolicy {
  label: string;
  /** The --set assignments that make it (beyond the configuration). */
  sets: Record<string, string>;
  rank?: PolicyRank;
  /** The dimension it was tried for (undefined: the configuration as it is). */
  dimension?: string;
  /** It ranked above the best so far when tried, and the search went on from it. */
  kept?: boolean;
}

export interface TuneProgress {
  done: number;
  total: number;
  reused: number;
  policy: string;
}

export interface TuneOptions {
  sourceDir: string;
  warmup: number;
  step: number;
  seeds: readonly number[];
  jobs: number;
  /** Where the reports go (runs/…); created by the caller. */
  outDir: string;
  dimensions: readonly Dimension[];
  /** Passed to each backtest as -c, when the configuration is not ./freshet.config.yaml. */
  configFile?: string | undefined;
  /** What a report depends on besides its policy and seed (history, warm-up, step, the configuration as written): part of its file name. */
  basis: string;
  signal: AbortSignal;
  onProgress?: (progress: TuneProgress) => void;
}

export interface TuneResult {
  winner: TunePolicy;
  policies: TunePolicy[];
  runs: number;
  reused: number;
  /** Backtests that continued from a first model another one kept (policies differing only in retrain.* keys). */
  warmStarts: number;
}

/**
 * A policy's report file for one seed: named by the hash of its assignments and of what
 * else the backtest depends on (`basis`: history, warm-up, step, configuration), so a
 * resumed tune finds it, and a tune of another history or configuration does not reuse it.
 */
export function reportFile(outDir: string, sets: Record<string, string>, seed: number, basis: string): string {
  const key = JSON.stringify([basis, Object.entries(sets).sort(([a], [b]) => (a < b ? -1 : 1))]);
  return path.join(outDir, 'runs', `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 12)}-seed${seed}.json`);
}

function readReport(file: string): ReportFigures | undefined {
  try {
    const report = JSON.parse(fs.readFileSync(file, 'utf8')) as ReportFigures;
    return typeof report.right === 'number' ? report : undefined;
  } catch {
    return undefined; // absent, or cut short by a kill: run it again
  }
}

/**
 * Where a policy's first model for one seed is kept while the search may still need it:
 * named by what the first model depends on — the basis, the seed and the assignments but
 * for those only retrains read — so policies that differ only after it share the folder.
 */
export function warmupFolder(outDir: string, sets: Record<string, string>, seed: number, basis: string): string {
  const before = Object.entries(sets).filter(([key]) => !readOnlyAfterWarmup(key)).sort(([a], [b]) => (a < b ? -1 : 1));
  return path.join(outDir, 'warmups', `${crypto.createHash('sha256').update(JSON.stringify([basis, seed, before])).digest('hex').slice(0, 12)}`);
}

/** One backtest in a child process; resolves when its report is written, rejects with its last words. */
function backtestChild(options: TuneOptions, sets: Record<string, string>, seed: number, file: string, warmup: { save?: string; from?: string }): Promise<void> {
  const args = [FRESHET_BIN, ...(options.configFile ? ['-c', options.configFile] : []), 'backtest', options.sourceDir, '--warmup', String(options.warmup), '--step', String(options.step), '--set', `training.seed=${seed}`];
  for (const [key, value] of Object.entries(sets)) args.push('--set', `${key}=${value}`);
  if (warmup.from) args.push('--from-warmup', warmup.from);
  else if (warmup.save) args.push('--save-warmup', warmup.save);
  args.push('--report', file, '--json');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-4000)));
    const stop = (): void => void child.kill('SIGTERM');
    options.signal.addEventListener('abort', stop, { once: true });
    child.on('close', (code) => {
      options.signal.removeEventListener('abort', stop);
      if (code === 0 && readReport(file)) resolve();
      else reject(new Error(`backtest of ${Object.keys(sets).length ? Object.entries(sets).map(([k, v]) => `${k}=${v}`).join(' ') : 'the configuration'} (seed ${seed}) ${options.signal.aborted ? 'interrupted' : `exited ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Runs `tasks` at most `jobs` at a time; after the first failure no new task starts (those running finish, their reports kept). */
async function pool<T>(tasks: Array<() => Promise<T>>, jobs: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !failed) {
      const index = next++;
      try {
        results[index] = await tasks[index]!();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

export async function runTune(options: TuneOptions): Promise<TuneResult> {
  fs.mkdirSync(path.join(options.outDir, 'runs'), { recursive: true });
  const total = options.seeds.length * (1 + options.dimensions.reduce((n, d) => n + d.alternatives.length, 0));
  let done = 0;
  let reused = 0;
  let warmStarts = 0;
  // A first model is worth keeping while a dimension of retrain.* keys is still to come (its alternatives share it).
  const lastSharing = options.dimensions.findLastIndex((d) => d.alternatives.every((a) => Object.keys(a.sets).every(readOnlyAfterWarmup)));
  let dimensionAt = -1; // the configuration as it is: before the first dimension
  const evaluate = async (policies: TunePolicy[]): Promise<void> => {
    const tasks = policies.flatMap((policy) =>
      options.seeds.map((seed) => async (): Promise<ReportFigures> => {
        if (options.signal.aborted) throw new Error('tune interrupted');
        const file = reportFile(options.outDir, policy.sets, seed, options.basis);
        let report = readReport(file);
        if (report) reused += 1;
        else {
          options.onProgress?.({ done, total, reused, policy: policy.label });
          const kept = warmupFolder(options.outDir, policy.sets, seed, options.basis);
          const from = fs.existsSync(path.join(kept, 'state.json')) ? kept : undefined;
          const save = !from && dimensionAt < lastSharing && !fs.existsSync(kept) ? kept : undefined;
          if (save) fs.mkdirSync(path.dirname(save), { recursive: true });
          await backtestChild(options, policy.sets, seed, file, { from, save });
          if (from) warmStarts += 1;
          report = readReport(file)!;
        }
        done += 1;
        options.onProgress?.({ done, total, reused, policy: policy.label });
        return report;
      }),
    );
    const reports = await pool(tasks, options.jobs);
    policies.forEach((policy, i) => (policy.rank = rankPolicy(reports.slice(i * options.seeds.length, (i + 1) * options.seeds.length))));
  };
  let best: TunePolicy = { label: 'the configuration as it is', sets: {}, kept: true };
  const policies: TunePolicy[] = [best];
  await evaluate([best]);
  for (const [at, dimension] of options.dimensions.entries()) {
    dimensionAt = at;
    if (at > lastSharing) fs.rmSync(path.join(options.outDir, 'warmups'), { recursive: true, force: true }); // tune made it; nothing later can share
    const tried = dimension.alternatives.map((alternative): TunePolicy => ({ label: alternative.label, sets: { ...best.sets, ...alternative.sets }, dimension: dimension.key, kept: false }));
    policies.push(...tried);
    await evaluate(tried);
    // Only a strictly higher rank replaces the best: with a tie, fewer changes win.
    const better = tried.reduce<TunePolicy | undefined>((top, p) => (p.rank!.score > (top ?? best).rank!.score ? p : top), undefined);
    if (better) {
      better.kept = true;
      best = better;
    }
  }
  fs.rmSync(path.join(options.outDir, 'warmups'), { recursive: true, force: true });
  return { winner: best, policies, runs: done, reused, warmStarts };
}
