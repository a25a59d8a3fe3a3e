// The evaluation gate: does a candidate replace the champion? Pure, so every rule is
// tested on numbers; the caller evaluates both models on the same fresh eval rows.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { describeBaseline, isConstant, type NaiveBaseline } from './naive-baselines.ts';

export type EvalConfig = ResolvedConfig['eval'];

export interface GateInput {
  metric: EvalConfig['metric'];
  candidate: number;
  /** null: there is no champion yet. */
  champion: number | null;
  /** The naive baseline the decision is held to (the strongest of eval.naive on the gate rows); null: none computed. */
  naive: NaiveBaseline | null;
  /** The best constant (what eval.fallback naive would serve); the same as `naive` when a constant is the strongest. */
  naiveConstant?: NaiveBaseline | null;
  /** The paired bootstrap of the improvement over the champion; null: no champion, or eval.confidence 0. */
  interval: { improvement: number; low: number; high: number; confidence: number; blocks: number } | null;
  evalRows: number;
  /** Where the gate rows came from, for the reason (e.g. "the holdout partition dt=2026-03-07"). */
  rowsAre?: string;
}

export interface GateDecision {
  promote: boolean;
  reason: string;
}

export function higherIsBetter(metric: EvalConfig['metric']): boolean {
  return metric === 'auc';
}

/** The metric's value out of an evaluation; throws when the task does not compute it. */
export function metricValue(metric: EvalConfig['metric'], evaluation: { valLoss: number; metrics: Record<string, number> }, task: string): number {
  if (metric === 'loss') return evaluation.valLoss;
  const value = evaluation.metrics[metric];
  if (value === undefined) throw new ConfigError(`eval.metric ${metric} is not computed for task ${task} (regression: loss, mse, mae; binary: loss, logloss, auc)`);
  return value;
}

const fmt = (n: number): string => n.toPrecision(5);

/**
 * The gate's rules, in order: rows to compare on; a finite candidate; the bounds; the
 * naive baseline (eval.mustBeatNaive); then, against a champion, the improvement threshold
 * and the bootstrap's lower bound (eval.confidence). The reason names every number.
 */
export function gateDecision(input: GateInput, rules: EvalConfig): GateDecision {
  const { metric, candidate, champion, naive, interval, evalRows } = input;
  const rows = `${evalRows} gate rows${input.rowsAre ? ` (${input.rowsAre})` : ''}`;
  if (evalRows === 0) return { promote: false, reason: 'no gate rows to compare on' };
  if (!Number.isFinite(candidate)) return { promote: false, reason: `candidate ${metric} is ${candidate}` };
  if (rules.upperBound !== undefined && candidate > rules.upperBound) return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} is above eval.upperBound ${rules.upperBound}` };
  if (rules.lowerBound !== undefined && candidate < rules.lowerBound) return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} is below eval.lowerBound ${rules.lowerBound}` };
  const naiveNote = naive ? `; naive ${naive.name}${isConstant(naive) ? ` (${fmt(naive.value)})` : ''} ${fmt(naive.metric)}` : '';
  let bothLose = '';
  if (rules.mustBeatNaive && naive && Number.isFinite(naive.metric)) {
    const beats = (value: number, baseline: number) => (higherIsBetter(metric) ? value > baseline : value < baseline);
    // The rule is there so that nothing worse than the baseline serves. It gives way when
    // what would serve instead loses to the baseline too and the baseline itself will not
    // serve — the champion with eval.fallback none, or anything when the strongest
    // baseline is per-row (persistence cannot serve: a request carries no labels). Keeping
    // the champion then would keep the worse of two that both lose: the candidate is
    // compared with the champion below.
    const championBeats = champion !== null && Number.isFinite(champion) && beats(champion, naive.metric);
    const championLosesToo = champion !== null && Number.isFinite(champion) && !championBeats;
    const givesWay = isConstant(naive) ? championLosesToo && rules.fallback === 'none' : !championBeats;
    if (!beats(candidate, naive.metric) && !givesWay) {
      return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} on ${rows} does no better than the naive baseline, ${describeBaseline(naive)} (${fmt(naive.metric)}): not promoted (eval.mustBeatNaive)` };
    }
    if (!beats(candidate, naive.metric)) {
      // Persistence is out of reach; with eval.fallback naive the best constant would serve instead: beat that at least.
      const constant = input.naiveConstant;
      if (!isConstant(naive) && rules.fallback === 'naive' && constant && Number.isFinite(constant.metric) && !beats(candidate, constant.metric)) {
        return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} on ${rows} does no better than ${describeBaseline(naive)} (${fmt(naive.metric)}) nor ${describeBaseline(constant)} (${fmt(constant.metric)}): not promoted (eval.mustBeatNaive)` };
      }
      bothLose = isConstant(naive)
        ? '; both lose to the naive baseline (the better of the two models serves: eval.fallback naive would serve the constant)'
        : `; it does no better than ${describeBaseline(naive)} (${fmt(naive.metric)}), which cannot serve: the best that can serves`;
    }
  }
  if (champion === null) return { promote: true, reason: `no champion yet; candidate ${metric} ${fmt(candidate)} on ${rows} passes the bounds${naiveNote}${bothLose}` };
  if (!Number.isFinite(champion)) return { promote: true, reason: `the champion's ${metric} is ${champion} on the gate rows; candidate ${fmt(candidate)}` };
  const gain = higherIsBetter(metric) ? candidate - champion : champion - candidate;
  const needed = Math.max(rules.minImprovement * Math.abs(champion), rules.minAbsoluteImprovement);
  const comparison = `candidate ${metric} ${fmt(candidate)} vs champion ${fmt(champion)} on ${rows}${naiveNote}`;
  const band = interval ? `; ${Math.round(interval.confidence * 100)}% block-bootstrap interval of the gain ${fmt(interval.low)} … ${fmt(interval.high)} over ${interval.blocks} blocks` : '';
  if (!(gain > 0 && gain >= needed)) {
    return { promote: false, reason: `${comparison}: ${gain > 0 ? `better by only ${fmt(gain)}` : gain === 0 ? 'no better' : `worse by ${fmt(-gain)}`} (needed ${fmt(needed)})${band}` };
  }
  if (interval && !(interval.low > 0)) {
    return { promote: false, reason: `${comparison}: better by ${fmt(gain)}, but not clearly (the lower bound ${fmt(interval.low)} is not above 0${band.replace(/^; /, ': ')}; eval.confidence ${interval.confidence})` };
  }
  return { promote: true, reason: `${comparison}: better by ${fmt(gain)} (needed ${fmt(needed)})${band}${bothLose}` };
}
