// What `freshet tune` searches: the policy keys the backtests of issues #13 and #16 found
// to matter on the 2001 flights — held-out partitions, the replay window, virtual epochs per
// retrain, the learning rate, the embedding size, crosses among the categorical columns,
// and (#29) averaged retrains and the gate without its naive rules, which paid on the
// flights (together) and not on the synthetic drift stream or the defaults, so they are
// searched rather than the default — each as a few alternatives to the configured value. Bounded on purpose: a coordinate
// search tries each dimension's alternatives once, holding the best found so far.
import type { ResolvedConfig } from '../core/config.ts';

/** One alternative: `--set` assignments (key=value, values as the environment reads them). */
export interface Alternative {
  label: string;
  sets: Record<string, string>;
}

export interface Dimension {
  /** The configuration key this dimension varies (what --dims names). */
  key: string;
  alternatives: Alternative[];
}

/**
 * Keys that nothing of a backtest's first model reads (the retrain policy): policies that
 * differ only in them share the first model (backtest --save-warmup / --from-warmup).
 */
export function readOnlyAfterWarmup(key: string): boolean {
  return key.startsWith('retrain.');
}

/** Most crossed pairs tried: the pairs of the first categorical columns, in configured order. */
export const MAX_CROSS_PAIRS = 3;

const one = (key: string, value: unknown): Alternative => ({ label: `${key}=${JSON.stringify(value)}`, sets: { [key]: typeof value === 'string' ? value : JSON.stringify(value) } });

/** The dimensions for this configuration (crosses and embedding sizes only with categorical columns), optionally only those named. */
export function searchSpace(config: ResolvedConfig, only?: readonly string[]): Dimension[] {
  const categorical = config.columns.categorical;
  const dimensions: Dimension[] = [
    { key: 'eval.holdoutPartitions', alternatives: [one('eval.holdoutPartitions', config.eval.holdoutPartitions + 1)] },
    { key: 'retrain.replayPartitions', alternatives: [one('retrain.replayPartitions', config.retrain.replayPartitions >= 14 ? 3 : 14)] },
    { key: 'retrain.virtualEpochs', alternatives: [one('retrain.virtualEpochs', config.retrain.virtualEpochs > 2 ? 2 : 5)] },
    { key: 'training.learningRate', alternatives: [one('training.learningRate', Number((config.training.learningRate * 3).toPrecision(6)))] },
  ];
  if (categorical.length > 0) {
    dimensions.push({ key: 'columns.vocabulary.embeddingDim', alternatives: [one('columns.vocabulary.embeddingDim', config.columns.vocabulary.embeddingDim === 16 ? 0 : 16)] });
  }
  if (categorical.length >= 2 && config.columns.crosses.length === 0) {
    const pairs: string[][] = [];
    for (let i = 0; i < categorical.length; i++) for (let j = i + 1; j < categorical.length; j++) pairs.push([categorical[i]!, categorical[j]!]);
    dimensions.push({ key: 'columns.crosses', alternatives: pairs.slice(0, MAX_CROSS_PAIRS).map((pair) => one('columns.crosses', [pair])) });
  }
  // Last: a retrain.* key, so its alternative continues from the first model kept for it.
  dimensions.push({ key: 'retrain.averageCheckpoints', alternatives: [one('retrain.averageCheckpoints', config.retrain.averageCheckpoints > 1 ? 1 : Math.min(3, config.training.retention.keepLast))] });
  // After the averaging: without it, dropping the naive rules lost (BENCHMARKS.md › Where the
  // wrong decisions come from); with it, the rules' refusals on quiet days were the gate's
  // commonest error (› Averaged retrains). Both rules go together: a fallback alone leaves
  // a lineage with no model at all when its first one does not beat the median.
  const naiveRules = config.eval.mustBeatNaive || config.eval.fallback === 'naive';
  dimensions.push({
    key: 'eval.mustBeatNaive',
    alternatives: [{
      label: naiveRules ? 'eval.mustBeatNaive=false, eval.fallback="none"' : 'eval.mustBeatNaive=true, eval.fallback="naive"',
      sets: naiveRules ? { 'eval.mustBeatNaive': 'false', 'eval.fallback': 'none' } : { 'eval.mustBeatNaive': 'true', 'eval.fallback': 'naive' },
    }],
  });
  if (!only) return dimensions;
  const known = new Set(dimensions.map((d) => d.key));
  const unknown = only.filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`--dims ${unknown.join(', ')}: not searched here (the dimensions for this configuration: ${[...known].join(', ')})`);
  return dimensions.filter((d) => only.includes(d.key));
}
