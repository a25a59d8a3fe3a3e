// eval.fallback naive: when no model is worth serving, serve the naive constant. Pure, so
// the rule is tested on numbers; the gate applies it after rejecting a candidate.
import type { EvalConfig } from './evaluation-gate.ts';
import { higherIsBetter } from './evaluation-gate.ts';
import { isConstant, type NaiveBaseline } from './naive-baselines.ts';

export interface FallbackInput {
  metric: EvalConfig['metric'];
  /** The model candidate's decision: the fallback is only considered when it was rejected. */
  candidatePromoted: boolean;
  /** The champion's metric on the gate rows; null: no champion yet. */
  champion: number | null;
  /** The champion's constant when the champion already is a naive version. */
  championConstant: number | null;
  /** The best constant on the gate rows (only a constant can serve). */
  naive: NaiveBaseline | null;
  evalRows: number;
}

const fmt = (n: number): string => n.toPrecision(5);

/**
 * Whether the naive constant should become the champion, and why: the candidate was
 * rejected, and the champion (if any) does no better than the constant on the same gate
 * rows. Nothing changes when the champion already serves that very constant.
 */
export function fallbackDecision(input: FallbackInput, rules: Pick<EvalConfig, 'fallback'>): { serve: NaiveBaseline & { value: number }; reason: string } | undefined {
  const { metric, naive, champion } = input;
  if (rules.fallback !== 'naive' || input.candidatePromoted || input.evalRows === 0) return undefined;
  if (!naive || !isConstant(naive) || !Number.isFinite(naive.metric) || !Number.isFinite(naive.value)) return undefined;
  if (input.championConstant !== null && Math.abs(input.championConstant - naive.value) <= 1e-12 * Math.max(1, Math.abs(naive.value))) return undefined;
  if (champion !== null && Number.isFinite(champion) && (higherIsBetter(metric) ? champion > naive.metric : champion < naive.metric)) return undefined;
  const what = `the naive baseline, the ${naive.name} ${fmt(naive.value)} (${metric} ${fmt(naive.metric)} on ${input.evalRows} gate rows)`;
  const reason =
    champion === null
      ? `no model beats ${what} yet: serving the constant (eval.fallback naive)`
      : `the champion's ${metric} ${fmt(champion)} on the same rows does no better than ${what}: serving the constant until a model beats it (eval.fallback naive)`;
  return { serve: naive, reason };
}
