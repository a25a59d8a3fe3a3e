// `freshet backtest <dir>`: replays a partition history in key order through the real loop
// (the watcher's scan registers each partition, a retrain job goes through the Postgres
// queue, the job plans, trains, gates and exports) on a throwaway registry, and measures
// every decision forward: before each step's partitions arrive, the serving champion and
// the naive baseline score them; after, each decision is checked on the next step by
// scoring the candidate and the champion it faced. How a user proves a policy (gate,
// base, replay, virtual epochs) on their own history before trusting the daemon with it.
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { JobWorker } from '../queue/index.ts';
import { findCompletePartitions, PartitionWatcher } from '../watcher/index.ts';
import { findLineageByName, getCheckpoint, getModelVersion, getChampion, listPromotions, migrateToLatest, type ModelVersion, type Promotion, type Registry } from '../registry/index.ts';
import { predictVersion } from '../serving/index.ts';
import { enqueueRetrain } from '../scheduler/index.ts';
import { retrainJobHandler } from '../retrain/index.ts';
import { evaluateAll, lineageGateSet, lossFunction, predictCheckpoint, type EvalSet, type MetricName, type TrainObserver, type TrainingPartition } from '../trainer/index.ts';
import { higherIsBetter, resolvedMetric, skill } from '../promotion/index.ts';
import { isDataFile } from '../data/index.ts';

export interface BacktestOptions {
  /** The history: a partition tree (dt=…/ with markers). */
  sourceDir: string;
  /** The configuration to replay with, already pointed at the throwaway registry and folders. */
  config: ResolvedConfig;
  db: Registry;
  warmup: number;
  step: number;
  log: Logger;
  signal: AbortSignal;
  /** Called after each step (a progress line). */
  onStep?: (step: BacktestStep, index: number, total: number) => void;
  /** Hears the training runs (a progress bar). */
  observer?: TrainObserver | undefined;
}

export interface BacktestStep {
  step: number;
  partitions: string[];
  /** The serving champion's metric on this step's rows before they arrived; null before the first model. */
  forward: number | null;
  /** The naive baseline the latest decision was held to (its constant), on the same rows. */
  forwardNaive: number | null;
  rows: number;
  /** The decision made once this step arrived (fallback: the candidate was rejected and the naive constant now serves). */
  decision: 'promoted' | 'rejected' | 'fallback' | 'none';
  candidate: number | null;
  champion: number | null;
  reason: string;
  /** Of the previous step's decision, on this step's rows: candidate and the champion it faced. */
  previousHeld: { candidate: number; champion: number; right: boolean } | null;
}

export interface BacktestSummary {
  metric: string;
  steps: BacktestStep[];
  /** Row-weighted forward metric of what served, over the steps it was measured on. */
  forward: number | null;
  forwardNaive: number | null;
  skill: number | null;
  promotions: number;
  promotedButWorse: number;
  rejectedButBetter: number;
  /** Decisions checked on the next step, and how many were right (promoted ⇔ better). */
  checked: number;
  right: number;
  seconds: number;
}

function scoreOn(metric: MetricName, config: ResolvedConfig, set: EvalSet, predictions: Float32Array): number {
  return evaluateAll(config.model.task, set.y, predictions)[metric]!;
}

/** The history's complete partitions, oldest first by path (the key order of dt=…). */
export function historyPartitions(sourceDir: string, config: ResolvedConfig, log: Logger): string[] {
  if (!fs.existsSync(sourceDir)) throw new ConfigError(`backtest: ${sourceDir} does not exist`);
  const found = findCompletePartitions(sourceDir, { ...config.watcher, stableMs: 0 }, log).map((p) => p.relativePath);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function asTrainingPartition(sourceDir: string, relative: string): TrainingPartition {
  const dir = path.join(sourceDir, relative);
  return { id: `history:${relative}`, path: relative, dir, files: fs.readdirSync(dir).filter(isDataFile).sort(), rows: null };
}

/** The gate's decision on a run, and whether a fallback to the naive constant followed it. */
async function decisionOfRun(db: Registry, lineageId: string, runId: string | undefined): Promise<{ decision: Promotion; fellBack: boolean } | undefined> {
  if (!runId) return undefined;
  const ofRun = (await listPromotions(db, lineageId, 5)).filter((p) => p.run_id === runId);
  const decision = ofRun.find((p) => p.decision === 'promoted' || p.decision === 'rejected');
  return decision ? { decision, fellBack: ofRun.some((p) => p.decision === 'fallback') } : undefined;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestSummary> {
  const { config, db, log, sourceDir } = options;
  const started = performance.now();
  const history = historyPartitions(sourceDir, config, log);
  if (history.length < options.warmup + options.step) {
    throw new ConfigError(`backtest: ${sourceDir} holds ${history.length} complete partitions; --warmup ${options.warmup} and --step ${options.step} need at least ${options.warmup + options.step}`);
  }
  const groups = [history.slice(0, options.warmup)];
  for (let at = options.warmup; at < history.length; at += options.step) groups.push(history.slice(at, at + options.step));
  await migrateToLatest(db);
  const metric = resolvedMetric(config.eval.metric, lossFunction(config).name);
  // Each step's job runs through the queue exactly as a daemon's worker runs it (claim, lease, handler, settle).
  const worker = new JobWorker({
    db,
    workerId: 'backtest',
    lineage: config.lineage,
    handlers: { retrain: retrainJobHandler({ db, config, log, observer: options.observer }) },
    log,
    leaseSeconds: 3600,
    heartbeatSeconds: 60,
    pollIntervalSeconds: config.queue.pollIntervalSeconds,
    maxBackoffSeconds: config.database.maxBackoffSeconds,
    backoff: { backoffSeconds: config.queue.backoffSeconds, maxBackoffSeconds: config.queue.maxBackoffSeconds },
  });
  const interrupt = (): void => void worker.stop(); // the running step stops at its next safe point
  options.signal.addEventListener('abort', interrupt, { once: true });
  const watcher = new PartitionWatcher({ db, config, log });
  const steps: BacktestStep[] = [];
  let previous: Promotion | undefined; // the newest decision: its naive constant is the forward baseline
  let lastStep: Promotion | undefined; // the previous step's decision, checked on this step
  for (const [index, group] of groups.entries()) {
    if (options.signal.aborted) throw new Error('backtest interrupted');
    const lineage = await findLineageByName(db, config.lineage);
    const champion = lineage ? await getChampion(db, lineage.id) : undefined;
    // Forward: what serves now, and the constant, on rows that have not arrived yet.
    let forward: number | null = null;
    let forwardNaive: number | null = null;
    let rows = 0;
    let previousHeld: BacktestStep['previousHeld'] = null;
    if (lineage && index > 0) {
      const set = await lineageGateSet(db, config, lineage.id, group.map((p) => asTrainingPartition(sourceDir, p)));
      rows = set.rows;
      // Each version scored once per step: the serving champion is often the one faced.
      const scored = new Map<string, number>();
      const scoreVersion = async (version: ModelVersion): Promise<number> => {
        if (!scored.has(version.id)) scored.set(version.id, scoreOn(metric, config, set, await predictVersion(db, config, version, set)));
        return scored.get(version.id)!;
      };
      if (champion && rows > 0) forward = await scoreVersion(champion);
      if (previous?.naive_value !== null && previous?.naive_value !== undefined && rows > 0) forwardNaive = scoreOn(metric, config, set, new Float32Array(rows).fill(previous.naive_value));
      if (lastStep?.champion_version_id && lastStep.candidate_checkpoint_id && rows > 0) {
        const faced = await getModelVersion(db, lastStep.champion_version_id);
        const candidate = scoreOn(metric, config, set, await predictCheckpoint(db, config, await getCheckpoint(db, lastStep.candidate_checkpoint_id), set));
        const championScore = await scoreVersion(faced);
        const better = higherIsBetter(metric) ? candidate > championScore : candidate < championScore;
        previousHeld = { candidate, champion: championScore, right: (lastStep.decision === 'promoted') === better };
      }
    }
    // Arrival: copy the step's partitions in (marker last, as a producer writes them), register, retrain.
    for (const relative of group) {
      const from = path.join(sourceDir, relative);
      const to = path.join(config.dataDir, relative);
      fs.mkdirSync(to, { recursive: true });
      for (const name of fs.readdirSync(from).filter((n) => n !== config.watcher.marker)) fs.cpSync(path.join(from, name), path.join(to, name), { recursive: true });
      if (config.watcher.mode === 'marker') fs.copyFileSync(path.join(from, config.watcher.marker), path.join(to, config.watcher.marker));
    }
    await watcher.scan();
    const { job } = await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 1, reason: `backtest step ${index}` });
    const ran = await worker.runOnce();
    if (ran?.job.id !== job.id) throw new Error(`backtest: claimed job ${ran?.job.id ?? 'none'} instead of ${job.id}`);
    if (options.signal.aborted) throw new Error('backtest interrupted');
    if (ran.outcome !== 'succeeded') {
      const settled = await db.selectFrom('jobs').select('last_error').where('id', '=', job.id).executeTakeFirst();
      throw new Error(`backtest step ${index}: the retrain job ${ran.outcome}${settled?.last_error ? `: ${settled.last_error}` : ''}`);
    }
    const lineageNow = (await findLineageByName(db, config.lineage))!;
    const run = await db.selectFrom('runs').select('id').where('job_id', '=', job.id).executeTakeFirst();
    const outcome = await decisionOfRun(db, lineageNow.id, run?.id);
    const decision = outcome?.decision;
    if (decision) previous = decision;
    lastStep = decision;
    const row: BacktestStep = {
      step: index,
      partitions: group,
      forward,
      forwardNaive,
      rows,
      decision: outcome?.fellBack ? 'fallback' : decision ? (decision.decision as 'promoted' | 'rejected') : 'none',
      candidate: decision?.candidate_metric ?? null,
      champion: decision?.champion_metric ?? null,
      reason: decision?.reason ?? 'no run: nothing fresh',
      previousHeld,
    };
    steps.push(row);
    options.onStep?.(row, index, groups.length);
  }
  options.signal.removeEventListener('abort', interrupt);
  return summarise(metric, steps, (performance.now() - started) / 1000);
}

export function summarise(metric: MetricName, steps: BacktestStep[], seconds: number): BacktestSummary {
  let weighted = 0;
  let weightedNaive = 0;
  let rows = 0;
  for (const s of steps) {
    if (s.forward === null || s.forwardNaive === null) continue;
    weighted += s.forward * s.rows;
    weightedNaive += s.forwardNaive * s.rows;
    rows += s.rows;
  }
  const forward = rows ? weighted / rows : null;
  const forwardNaive = rows ? weightedNaive / rows : null;
  // A decision is checked on the next step: previousHeld of step k+1 is the decision of step k.
  let promotedButWorse = 0;
  let rejectedButBetter = 0;
  let checked = 0;
  let right = 0;
  for (let k = 1; k < steps.length; k++) {
    const held = steps[k]!.previousHeld;
    if (!held) continue;
    checked += 1;
    if (held.right) right += 1;
    else if (steps[k - 1]!.decision === 'promoted') promotedButWorse += 1;
    else rejectedButBetter += 1;
  }
  return {
    metric,
    steps,
    forward,
    forwardNaive,
    skill: skill(metric, forward, forwardNaive),
    promotions: steps.filter((s) => s.decision === 'promoted').length,
    promotedButWorse,
    rejectedButBetter,
    checked,
    right,
    seconds,
  };
}
