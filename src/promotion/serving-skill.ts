// Does the model serving after a decision beat the naive baseline on that decision's gate
// rows? The one reading of a decision row that `freshet status`, `freshet models`, the
// status page and /metrics share: a user must know when their model is not worth serving.
import type { Promotion } from '../registry/index.ts';
import { describeBaseline, skill } from './naive-baselines.ts';
import type { MetricName } from '../core/eval-metrics.ts';

export interface ServingSkill {
  /** The serving model's metric on the gate rows: the candidate's if promoted, else the champion's it faced. */
  servingMetric: number;
  naiveName: string;
  /** The baseline's constant; null for a per-row baseline (last, seasonal:K, column:NAME). */
  naiveValue: number | null;
  /** The baseline as a sentence names it: "the median 12.5", "persistence (last)". */
  naiveDescribed: string;
  naiveMetric: number;
  /** 1 − serving ÷ naive (for auc, (auc − 0.5) ÷ 0.5); null when undefined. */
  skill: number | null;
  beatsNaive: boolean;
  /** The naive constant itself serves (a fallback decision, eval.fallback naive). */
  servesConstant: boolean;
  /** Skill of the candidate, promoted or not. */
  candidateSkill: number | null;
  /** Skill of the champion the candidate faced (null before the first model). */
  championSkill: number | null;
}

/** The forward check of a gate decision (or of a fallback); null for manual promotions, rollbacks and decisions without a naive baseline. */
export function servingSkill(p: Promotion): ServingSkill | null {
  if ((p.decision !== 'promoted' && p.decision !== 'rejected' && p.decision !== 'fallback') || p.naive_metric === null || p.naive_name === null || !p.metric_name) return null;
  // promoted and fallback: what serves is the decision's candidate (a fallback's is the constant).
  const serving = p.decision === 'rejected' ? p.champion_metric : p.candidate_metric;
  if (serving === null) return null;
  const metric = (p.metric_name === 'loss' ? 'mse' : p.metric_name) as MetricName; // 'loss' is a loss: lower is better, as mse
  const higher = metric === 'auc';
  return {
    servingMetric: serving,
    naiveName: p.naive_name,
    naiveValue: p.naive_value,
    naiveDescribed: describeBaseline({ name: p.naive_name, value: p.naive_value, metric: p.naive_metric }),
    naiveMetric: p.naive_metric,
    skill: skill(metric, serving, p.naive_metric),
    beatsNaive: higher ? serving > p.naive_metric : serving < p.naive_metric,
    servesConstant: p.decision === 'fallback',
    candidateSkill: skill(metric, p.candidate_metric, p.naive_metric),
    championSkill: skill(metric, p.champion_metric, p.naive_metric),
  };
}

