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
import { JobWorker, workerTiming } from '../queue/index.ts';
import { findCompletePartitions, PartitionWatcher } from '../watcher/index.ts';
import { findLineageByName, getCheckpoint, getJob, latestRunOfJob, getModelVersion, getChampion, listPromotions, migrateToLatest, type ModelVersion, type Promotion, type Registry } from '../registry/index.ts';
import { predictVersion } from '../serving/index.ts';
import { enqueueRetrain } from '../scheduler/index.ts';
import { rowsWithBaselines, retrainJobHandler } from '../retrain/index.ts';
import { evaluateAll, lineageGateSet, predictCheckpoint, trainingSpec, type EvalSet, type MetricName, type TrainObserver, type TrainingPartition } from '../trainer/index.ts';
import { higherIsBetter, resolvedMetric, skill } from '../promotion/index.ts';
import { isDataFile } from '../data/index.ts';
import { relativeGain, type DecisionGain } from '../core/decision-gain.ts';
import { restoreWarmup, saveWarmup, warmupFingerprint } from './warmup-snapshot.ts';

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
  /** Keep the state after step 0 (the first model) in this folder, which must not exist (warmup-snapshot.ts). */
  saveWarmup?: string | undefined;
  /** Continue from a state kept by saveWarmup instead of running step 0 (only retrain.* keys may differ). */
  fromWarmup?: string | undefined;
}

/** A decision of the previous step, checked on this step's rows (BacktestStep.previousHeld). */
export interface HeldCheck {
  candidate: number;
  champion: number;
  against: 'champion' | 'constant';
  right: boolean;
  /**
   * The same two scores on each partition of the step, in key order: how the check's
   * verdict builds up over the period (the first days of a week against the rest), for
   * whoever asks how much a few days can foretell (bench/backtests/ceiling.ts).
   */
  byPartition: Array<{ partition: string; rows: number; candidate: number; champion: number }>;
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
  /**
   * Of the previous step's decision, on this step's rows: its candidate against what the
   * decision kept serving instead — the champion it faced, or after a fallback the naive
   * constant that then served (`against`). right: promoted ⇔ the candidate was better.
   */
  previousHeld: HeldCheck | null;
  /** Wall seconds of the step: its forward scoring, and its arrival, retrain and gate (where a backtest's time goes). */
  seconds?: { forward: number; retrain: number };
}

export interface BacktestSummary {
  metric: string;
  steps: BacktestStep[];
  /** Row-weighted forward metric of what served, over the steps it was measured on. */
  forward: number | null;
  forwardNaive: number | null;
  skill: number | null;
  promotions: number;
  /** Promotions checked on the next step (not the first model, which faced nothing, nor a last step's). */
  promotionsChecked: number;
  promotedButWorse: number;
  rejectedButBetter: number;
  /** Decisions checked on the next step, and how many were right (promoted ⇔ better). */
  checked: number;
  right: number;
  /**
   * What the checked decisions were worth on the next step, as sums over them of the
   * candidate's relative gain over what it was held against (the champion it faced, or the
   * constant that served after a fallback; negative when the candidate was worse):
   * `captured` over the promotions (a worse one counts against), `alwaysPromote` over every
   * decision (the gate that promotes everything), `clairvoyant` over the decisions whose
   * candidate was better (the gate that knew the next step). The counts above treat a
   * decision lost by 0.1% like one lost by 5%; captured ÷ clairvoyant does not.
   */
  decisionGain: DecisionGain;
  seconds: number;
}

function scoreOn(metric: MetricName, config: ResolvedConfig, set: EvalSet, predictions: Float32Array): number {
  return evaluateAll(config.model.task, set.y, predictions)[metric]!;
}

/** Only a row's partition, no side column: loadEvalSet records which partition each row is of. */
const PARTITION_OF_ROWS = { names: [], textual: new Set<number>(), encode: () => 0 };

/** Per partition of the set (in the set's order), the metric of each prediction array on that partition's rows. */
function scoresByPartition(metric: MetricName, config: ResolvedConfig, set: EvalSet, predictions: readonly Float32Array[]): Array<{ partition: number; rows: number; scores: number[] }> {
  const partitionOf = set.side!.partition;
  const rowsOf = set.partitionIds.map(() => [] as number[]);
  for (let r = 0; r < set.rows; r++) rowsOf[partitionOf[r]!]!.push(r);
  return rowsOf.flatMap((rows, partition) => {
    if (rows.length === 0) return [];
    const y = Float32Array.from(rows, (r) => set.y[r]!);
    const scores = predictions.map((p) => evaluateAll(config.model.task, y, Float32Array.from(rows, (r) => p[r]!))[metric]!);
    return [{ partition, rows: rows.length, scores }];
  });
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

type ForwardScores = Pick<BacktestStep, 'forward' | 'forwardNaive' | 'rows' | 'previousHeld'>;

/**
 * Forward: what serves now, and the constant, scored on the step's rows before they arrive;
 * and whether the previous step's decision held on them (its candidate against the
 * champion it faced). Each version is scored once per step: the serving champion is often
 * the one faced.
 */
async function scoreForward({ db, config, metric, sourceDir, lineageId, champion, group, previous, lastStep, lastFellBack }: {
  db: Registry;
  config: ResolvedConfig;
  metric: MetricName;
  sourceDir: string;
  lineageId: string;
  champion: ModelVersion | undefined;
  group: string[];
  previous: Promotion | undefined;
  lastStep: Promotion | undefined;
  /** The previous step's rejection was followed by the fallback: the constant (now the champion) served instead of the champion it faced. */
  lastFellBack: boolean;
}): Promise<ForwardScores> {
  // Every row of the step, not the first training.evalMaxRows (a week of flights is 116k rows: the cap cut its last day).
  // The baseline the newest decision was held to: a constant, or a per-row one (persistence…) predicted here from the labels before the step.
  const perRow = previous?.naive_name && previous.naive_value === null ? previous.naive_name : undefined;
  const partitions = group.map((p) => asTrainingPartition(sourceDir, p));
  const { set, naiveRows } = perRow
    ? await rowsWithBaselines(db, config, lineageId, partitions, fillOf(previous!), { maxRows: Number.POSITIVE_INFINITY })
    : { set: await lineageGateSet(db, config, lineageId, partitions, Number.POSITIVE_INFINITY, PARTITION_OF_ROWS), naiveRows: [] };
  const rows = set.rows;
  if (rows === 0) return { forward: null, forwardNaive: null, rows, previousHeld: null };
  // Each model predicts once per step, by checkpoint: the serving champion is often the one
  // faced, and after a promotion the previous step's candidate is the champion.
  const predicted = new Map<string, Float32Array>();
  const predictionsOfCheckpoint = async (checkpointId: string): Promise<Float32Array> => {
    if (!predicted.has(checkpointId)) predicted.set(checkpointId, await predictCheckpoint(db, config, await getCheckpoint(db, checkpointId), set));
    return predicted.get(checkpointId)!;
  };
  const predictionsOf = async (version: ModelVersion): Promise<Float32Array> =>
    version.constant !== null ? predictVersion(db, config, version, set) : predictionsOfCheckpoint(version.checkpoint_id);
  const forward = champion ? scoreOn(metric, config, set, await predictionsOf(champion)) : null;
  const naive = previous?.naive_value;
  const naivePredictions = perRow ? naiveRows.find((b) => b.name === perRow)?.predictions : naive !== null && naive !== undefined ? new Float32Array(rows).fill(naive) : undefined;
  const forwardNaive = naivePredictions ? scoreOn(metric, config, set, naivePredictions) : null;
  let previousHeld: BacktestStep['previousHeld'] = null;
  if (lastStep?.champion_version_id && lastStep.candidate_checkpoint_id) {
    const servedInstead = lastFellBack && champion ? champion : await getModelVersion(db, lastStep.champion_version_id);
    const candidatePredictions = await predictionsOfCheckpoint(lastStep.candidate_checkpoint_id);
    const championPredictions = await predictionsOf(servedInstead);
    const candidate = scoreOn(metric, config, set, candidatePredictions);
    const championScore = scoreOn(metric, config, set, championPredictions);
    const better = higherIsBetter(metric) ? candidate > championScore : candidate < championScore;
    const byPartition = scoresByPartition(metric, config, set, [candidatePredictions, championPredictions]).map(({ partition, rows: partitionRows, scores }) => ({
      partition: group[partition]!,
      rows: partitionRows,
      candidate: scores[0]!,
      champion: scores[1]!,
    }));
    previousHeld = { candidate, champion: championScore, against: lastFellBack ? 'constant' : 'champion', right: (lastStep.decision === 'promoted') === better, byPartition };
  }
  return { forward, forwardNaive, rows, previousHeld };
}

/** The constant a decision's per-row baseline gave a row with nothing of its own (the window's median), as the gate recorded it. */
function fillOf(decision: Promotion): number {
  const baselines = (typeof decision.naive_baselines === 'string' ? JSON.parse(decision.naive_baselines) : decision.naive_baselines) as Array<{ name: string; fill?: number }> | null;
  return baselines?.find((b) => b.name === decision.naive_name)?.fill ?? Number.NaN;
}

/** Arrival: copies a step's partitions into the data dir, marker last, as a producer writes them. */
function arrive(sourceDir: string, config: ResolvedConfig, group: string[]): void {
  for (const relative of group) {
    const from = path.join(sourceDir, relative);
    const to = path.join(config.dataDir, relative);
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from).filter((n) => n !== config.watcher.marker)) fs.cpSync(path.join(from, name), path.join(to, name), { recursive: true });
    if (config.watcher.mode === 'marker') fs.copyFileSync(path.join(from, config.watcher.marker), path.join(to, config.watcher.marker));
  }
}

/** One retrain job through the queue, as a daemon's worker runs it; returns the decision of its run. */
async function retrainOnce(db: Registry, config: ResolvedConfig, worker: JobWorker, index: number, signal: AbortSignal) {
  const { job } = await enqueueRetrain(db, { lineage: config.lineage, trigger: 'manual', maxAttempts: 1, reason: `backtest step ${index}` });
  const ran = await worker.runOnce();
  if (ran?.job.id !== job.id) throw new Error(`backtest: claimed job ${ran?.job.id ?? 'none'} instead of ${job.id}`);
  if (signal.aborted) throw new Error('backtest interrupted');
  if (ran.outcome !== 'succeeded') {
    const settled = await getJob(db, job.id);
    throw new Error(`backtest step ${index}: the retrain job ${ran.outcome}${settled?.last_error ? `: ${settled.last_error}` : ''}`);
  }
  const lineage = (await findLineageByName(db, config.lineage))!;
  const run = await latestRunOfJob(db, job.id);
  return decisionOfRun(db, lineage.id, run?.id);
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
  const fingerprint = options.saveWarmup || options.fromWarmup ? warmupFingerprint(config, sourceDir, options.warmup) : undefined;
  const warm = options.fromWarmup ? await restoreWarmup(options.fromWarmup, { db, config, fingerprint }) : undefined;
  const metric = resolvedMetric(config.eval.metric, trainingSpec(config).loss.name);
  // Each step's job runs through the queue exactly as a daemon's worker runs it (claim, lease, handler, settle).
  const worker = new JobWorker({
    db,
    workerId: 'backtest',
    lineages: [config.lineage],
    handlers: { retrain: retrainJobHandler({ db, config, log, observer: options.observer }) },
    log,
    ...workerTiming(config),
    // One step may train for long on a slow machine; nothing else claims in a backtest.
    leaseSeconds: 3600,
    heartbeatSeconds: 60,
  });
  const interrupt = (): void => void worker.stop(); // the running step stops at its next safe point
  options.signal.addEventListener('abort', interrupt, { once: true });
  const watcher = new PartitionWatcher({ db, config, log });
  const steps: BacktestStep[] = [];
  let previous: Promotion | undefined; // the newest decision: its naive constant is the forward baseline
  let lastStep: Promotion | undefined; // the previous step's decision, checked on this step
  let lastFellBack = false;
  for (const [index, group] of groups.entries()) {
    if (options.signal.aborted) throw new Error('backtest interrupted');
    if (index === 0 && warm) {
      // The first model as the saved warm-up left it: its report row, and its decision as the one the next step checks.
      const lineage = await findLineageByName(db, config.lineage);
      const outcome = lineage ? await decisionOfRun(db, lineage.id, warm.runId ?? undefined) : undefined;
      previous = lastStep = outcome?.decision;
      lastFellBack = outcome?.fellBack ?? false;
      steps.push(warm.step);
      options.onStep?.(warm.step, index, groups.length);
      continue;
    }
    const stepStarted = performance.now();
    const lineage = await findLineageByName(db, config.lineage);
    const champion = lineage ? await getChampion(db, lineage.id) : undefined;
    const { forward, forwardNaive, rows, previousHeld } = lineage && index > 0 ? await scoreForward({ db, config, metric, sourceDir, lineageId: lineage.id, champion, group, previous, lastStep, lastFellBack }) : { forward: null, forwardNaive: null, rows: 0, previousHeld: null };
    const scored = performance.now();
    arrive(sourceDir, config, group);
    await watcher.scan();
    const outcome = await retrainOnce(db, config, worker, index, options.signal);
    const decision = outcome?.decision;
    if (decision) previous = decision;
    lastStep = decision;
    lastFellBack = outcome?.fellBack ?? false;
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
      seconds: { forward: (scored - stepStarted) / 1000, retrain: (performance.now() - scored) / 1000 },
    };
    steps.push(row);
    if (index === 0 && options.saveWarmup) {
      const saved = await saveWarmup(options.saveWarmup, { db, config, fingerprint, step: row, runId: decision?.run_id ?? null });
      log.info({ dir: options.saveWarmup, saved }, 'warm-up kept');
    }
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
  // A fallback is a rejection checked against the constant that served after it.
  let promotedButWorse = 0;
  let promotionsChecked = 0;
  let rejectedButBetter = 0;
  let checked = 0;
  let right = 0;
  const decisionGain: DecisionGain = { captured: 0, alwaysPromote: 0, clairvoyant: 0 };
  for (let k = 1; k < steps.length; k++) {
    const held = steps[k]!.previousHeld;
    if (!held) continue;
    const promoted = steps[k - 1]!.decision === 'promoted';
    checked += 1;
    const gain = relativeGain(higherIsBetter(metric), held.candidate, held.champion);
    if (promoted) decisionGain.captured += gain;
    decisionGain.alwaysPromote += gain;
    decisionGain.clairvoyant += Math.max(0, gain);
    if (promoted) promotionsChecked += 1;
    if (held.right) right += 1;
    else if (promoted) promotedButWorse += 1;
    else rejectedButBetter += 1;
  }
  return {
    metric,
    steps,
    forward,
    forwardNaive,
    skill: skill(metric, forward, forwardNaive),
    promotions: steps.filter((s) => s.decision === 'promoted').length,
    promotionsChecked,
    promotedButWorse,
    rejectedButBetter,
    checked,
    right,
    decisionGain,
    seconds,
  };
}
