// Evaluation metrics over plain arrays: mse, mae, log loss, AUC, and per-row losses for the
// gate's bootstrap. Plain arithmetic, no TensorFlow.js, in core/ so that the trainer (its
// validation checks) and promotion (the gate, naive baselines) share one definition and
// promotion/ loads no tfjs.

export type MetricName = 'mse' | 'mae' | 'logloss' | 'auc';

const EPS = 1e-7;

export function meanSquaredError(y: Float32Array, p: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (p[i]! - y[i]!) ** 2;
  return sum / y.length;
}

export function meanAbsoluteError(y: Float32Array, p: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += Math.abs(p[i]! - y[i]!);
  return sum / y.length;
}

/** Binary cross-entropy of probabilities, clipped like Keras (epsilon 1e-7). */
export function logLoss(y: Float32Array, p: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
    sum -= y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q);
  }
  return sum / y.length;
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties averaged. */
export function rocAuc(y: Float32Array, p: Float32Array): number {
  const order = Array.from(p.keys()).sort((a, b) => p[a]! - p[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && p[order[j + 1]!] === p[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[order[k]!]! > 0.5) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Every metric for a task; the first key is the one promotion compares (lower is better except auc). */
export function evaluateAll(task: 'regression' | 'binary', y: Float32Array, p: Float32Array): Record<string, number> {
  return task === 'regression'
    ? { mse: meanSquaredError(y, p), mae: meanAbsoluteError(y, p) }
    : { logloss: logLoss(y, p), auc: rocAuc(y, p) };
}

/** Each row's loss under a decomposable metric (the mean of these is the metric): what the gate's paired bootstrap resamples. */
export function rowLosses(metric: Exclude<MetricName, 'auc'>, y: Float32Array, p: Float32Array): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const e = p[i]! - y[i]!;
    if (metric === 'mse') out[i] = e * e;
    else if (metric === 'mae') out[i] = Math.abs(e);
    else {
      const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
      out[i] = -(y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q));
    }
  }
  return out;
}
