// Everything the gate compares, from predictions on the gate rows: the candidate's and the
// champion's metric, the naive baselines, and the paired block bootstrap of the
// improvement. Pure (arrays in, numbers out), so each is tested on known numbers.
import { evaluateAll, rocAuc, rowLosses, type MetricName } from '../core/eval-metrics.ts';
import type { EvalConfig } from './evaluation-gate.ts';
import { scoreNaiveBaselines, type NaiveBaseline, type NaiveName } from './naive-baselines.ts';
import type { RowBaseline } from './row-baselines.ts';
import { meanLossImprovement, pairedBlockBootstrap, resampledImprovement, type BootstrapInterval } from './paired-bootstrap.ts';

export interface GateScoresInput {
  /** eval.metric resolved (`loss` → the training loss's name). */
  metric: MetricName;
  task: 'regression' | 'binary';
  y: Float32Array;
  candidate: Float32Array;
  /** null: no champion. */
  champion: Float32Array | null;
  naiveConstants: ReadonlyArray<{ name: NaiveName; value: number }>;
  /** The per-row baselines' predictions on the gate rows (eval.naive last, seasonal:K, column:NAME). */
  naiveRows?: readonly RowBaseline[];
  rules: Pick<EvalConfig, 'confidence' | 'bootstrapSamples' | 'bootstrapBlocks'>;
  seed: number;
}

export interface GateScores {
  candidate: number;
  champion: number | null;
  /** The strongest baseline: the one a decision is held to. */
  naive: NaiveBaseline | null;
  /** The best constant: the one eval.fallback can serve. */
  naiveConstant: NaiveBaseline | null;
  naiveAll: NaiveBaseline[];
  interval: BootstrapInterval | null;
}

export function gateScores(input: GateScoresInput): GateScores {
  const { metric, task, y } = input;
  const score = (p: Float32Array): number => (y.length ? evaluateAll(task, y, p)[metric]! : Number.NaN);
  const candidate = score(input.candidate);
  const champion = input.champion ? score(input.champion) : null;
  const { all, best, bestConstant } = scoreNaiveBaselines(metric, task, input.naiveConstants, y, input.naiveRows);
  let interval: BootstrapInterval | null = null;
  if (input.champion && input.rules.confidence > 0 && y.length > 1) {
    const championPredictions = input.champion;
    const improvementOf =
      metric === 'auc'
        ? resampledImprovement((rows) => {
            const pick = (p: Float32Array): Float32Array => Float32Array.from(rows, (i) => p[i]!);
            const yy = pick(y);
            return { candidate: rocAuc(yy, pick(input.candidate)), champion: rocAuc(yy, pick(championPredictions)) };
          })
        : meanLossImprovement(rowLosses(metric, y, input.candidate), rowLosses(metric, y, championPredictions), input.rules.bootstrapBlocks);
    interval = pairedBlockBootstrap({ rows: y.length, blocks: input.rules.bootstrapBlocks, samples: input.rules.bootstrapSamples, confidence: input.rules.confidence, seed: input.seed, improvementOf });
  }
  return { candidate, champion, naive: best, naiveConstant: bestConstant, naiveAll: all, interval };
}
