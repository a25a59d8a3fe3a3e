// The evaluation gate: does a candidate replace the champion? Pure, so every rule is
// tested on numbers; the caller evaluates both models on the same fresh eval rows.
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';

export type EvalConfig = ResolvedConfig['eval'];

export interface GateInput {
  metric: EvalConfig['metric'];
  candidate: number;
  /** null: there is no champion yet. */
  champion: number | null;
  evalRows: number;
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

export function gateDecision({ metric, candidate, champion, evalRows }: GateInput, rules: EvalConfig): GateDecision {
  if (evalRows === 0) return { promote: false, reason: 'no fresh eval rows to compare on' };
  if (!Number.isFinite(candidate)) return { promote: false, reason: `candidate ${metric} is ${candidate}` };
  if (rules.upperBound !== undefined && candidate > rules.upperBound) return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} is above eval.upperBound ${rules.upperBound}` };
  if (rules.lowerBound !== undefined && candidate < rules.lowerBound) return { promote: false, reason: `candidate ${metric} ${fmt(candidate)} is below eval.lowerBound ${rules.lowerBound}` };
  if (champion === null) return { promote: true, reason: `no champion yet; candidate ${metric} ${fmt(candidate)} on ${evalRows} fresh eval rows passes the bounds` };
  if (!Number.isFinite(champion)) return { promote: true, reason: `the champion's ${metric} is ${champion} on the fresh rows; candidate ${fmt(candidate)}` };
  const gain = higherIsBetter(metric) ? candidate - champion : champion - candidate;
  const needed = Math.max(rules.minImprovement * Math.abs(champion), rules.minAbsoluteImprovement);
  const comparison = `candidate ${metric} ${fmt(candidate)} vs champion ${fmt(champion)} on ${evalRows} fresh eval rows`;
  if (gain > 0 && gain >= needed) return { promote: true, reason: `${comparison}: better by ${fmt(gain)} (needed ${fmt(needed)})` };
  return { promote: false, reason: `${comparison}: ${gain > 0 ? `better by only ${fmt(gain)}` : gain === 0 ? 'no better' : `worse by ${fmt(-gain)}`} (needed ${fmt(needed)})` };
}
