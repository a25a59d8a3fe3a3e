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
    // the champion loses to the baseline too and the baseline will not serve (eval.fallback
    // none): keeping the champion would keep the worse of two models that both lose, so the
    // candidate is compared with the champion below. A per-row baseline (persistence…)
    // never serves — a request carries no labels —: when nothing that can serve beats it,
    // the candidate is held to the best constant instead, by the same rule.
    const championLosesTo = (baseline: number) => champion !== null && Number.isFinite(champion) && !beats(champion, baseline);
    const reject = (against: string) => ({ promote: false, reason: `candidate ${metric} ${fmt(candidate)} on ${rows} does no better than ${against}: not promoted (eval.mustBeatNaive)` });
    if (!beats(candidate, naive.metric)) {
      const strongest = `the naive baseline, ${describeBaseline(naive)} (${fmt(naive.metric)})`;
      if (isConstant(naive)) {
        if (!(championLosesTo(naive.metric) && rules.fallback === 'none')) return reject(strongest);
        bothLose = '; both lose to the naive baseline (the better of the two models serves: eval.fallback naive would serve the constant)';
      } else {
        if (champion !== null && Number.isFinite(champion) && beats(champion, naive.metric)) return reject(strongest); // the champion does beat it: keep the champion
        const constant = input.naiveConstant;
        if (constant && Number.isFinite(constant.metric) && !beats(candidate, constant.metric) && !(championLosesTo(constant.metric) && rules.fallback === 'none')) {
          return reject(`${describeBaseline(naive)} (${fmt(naive.metric)}) nor ${describeBaseline(constant)} (${fmt(constant.metric)})`);
        }
        bothLose = `; it does no better than ${describeBaseline(naive)} (${fmt(naive.metric)}), which cannot serve: the best that can serves`;
      }
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
