// How `freshet tune` ranks a policy: by its forward skill over the naive baseline in the
// backtest, mean over seeds minus the spread (sample standard deviation) over seeds — a
// policy that wins on one seed and loses on another ranks below a steady one.

import type { DecisionGain } from '../core/decision-gain.ts';

/** What tune reads from a backtest report (freshet backtest --report). */
export interface ReportFigures {
  skill: number | null;
  right: number;
  checked: number;
  promotedButWorse: number;
  promotionsChecked: number;
  /** Absent in reports written before 2026-12-07 (a resumed tune may read one). */
  decisionGain?: DecisionGain;
  seconds: number;
}

export interface PolicyRank {
  /** mean − sd of the per-seed skill; −Infinity when a seed had no skill (nothing served). */
  score: number;
  mean: number;
  sd: number;
  skills: Array<number | null>;
  right: number;
  checked: number;
  promotedButWorse: number;
  promotionsChecked: number;
  /** Pooled over the seeds; null when a report lacks it. */
  decisionGain: DecisionGain | null;
  minutes: number;
}

export function rankPolicy(reports: readonly ReportFigures[]): PolicyRank {
  const skills = reports.map((r) => r.skill);
  const known = skills.filter((s): s is number => s !== null && Number.isFinite(s));
  const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : Number.NaN;
  const sd = known.length > 1 ? Math.sqrt(known.reduce((a, x) => a + (x - mean) ** 2, 0) / (known.length - 1)) : 0;
  const sum = (pick: (r: ReportFigures) => number): number => reports.reduce((a, r) => a + pick(r), 0);
  return {
    score: known.length === reports.length && reports.length > 0 ? mean - sd : Number.NEGATIVE_INFINITY,
    mean,
    sd,
    skills,
    right: sum((r) => r.right),
    checked: sum((r) => r.checked),
    promotedButWorse: sum((r) => r.promotedButWorse),
    promotionsChecked: sum((r) => r.promotionsChecked),
    decisionGain: reports.every((r) => r.decisionGain)
      ? { captured: sum((r) => r.decisionGain!.captured), alwaysPromote: sum((r) => r.decisionGain!.alwaysPromote), clairvoyant: sum((r) => r.decisionGain!.clairvoyant) }
      : null,
    minutes: sum((r) => r.seconds) / 60 / Math.max(1, reports.length),
  };
}
