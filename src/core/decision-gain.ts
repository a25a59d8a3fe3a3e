// What a backtest's decisions were worth, beside how many were right: each checked
// decision's candidate against what it was held against on the next step, as a relative
// gain, summed three ways (backtest.ts › BacktestSummary.decisionGain). Kept apart from the
// backtest itself (in core) so that the CLI's text and tune's table read it without loading training.

export interface DecisionGain {
  /** Over the promotions: what the gate took (a promotion that was worse counts against it). */
  captured: number;
  /** Over every checked decision: what a gate that promotes every candidate would have taken. */
  alwaysPromote: number;
  /** Over the decisions whose candidate was better: what a gate that knew the next step would have taken. */
  clairvoyant: number;
}

/** The candidate's gain over what it was held against, relative to the latter (positive: the candidate was better). */
export function relativeGain(higherIsBetter: boolean, candidate: number, against: number): number {
  if (!Number.isFinite(candidate) || !Number.isFinite(against) || against === 0) return 0;
  return (higherIsBetter ? candidate - against : against - candidate) / Math.abs(against);
}

/** A share of the clairvoyant gate's gain (`captured` or `alwaysPromote` over `clairvoyant`); null when no decision could gain anything. */
export function shareOfClairvoyant(taken: number, gain: Pick<DecisionGain, 'clairvoyant'>): number | null {
  return gain.clairvoyant > 0 ? taken / gain.clairvoyant : null;
}

/** A count out of a whole with its share, as the decision counts are written: 16/24 (67%); '-' out of none. */
export function formatCount(part: number, whole: number): string {
  return whole ? `${part}/${whole} (${Math.round((100 * part) / whole)}%)` : '-';
}

/** A share as a whole percentage, with a true minus sign (as the tables' skills are written). */
export function formatShare(share: number): string {
  const rounded = Math.round(100 * share);
  return `${rounded < 0 ? '−' : ''}${Math.abs(rounded)}%`;
}
