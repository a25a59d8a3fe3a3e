// The training step: the hot path. One forward/backward/Adam update — the built-in MLP's
// gradients without the tape where it has them (mlp-gradients.ts), else inside
// optimizer.minimize — and one add into an on-device loss accumulator. The loss is not
// read back to JavaScript unless asked (every `logEvery` steps and at checkpoints); the
// tape-free path reads the batch's predictions (one float a row) for the loss's gradient.
import { tf } from '../backend.ts';
import type { TrainableModel } from './trainable-model.ts';

export type LossFn = (labels: tf.Tensor2D, predictions: tf.Tensor2D) => tf.Scalar;
export type LossName = 'mse' | 'mae' | 'logloss';
/** The loss by name (which decides whether the tape-free gradients apply) and as a function. */
export interface TrainingLoss {
  name: LossName;
  fn: LossFn;
}

export class TrainStep {
  readonly #model: TrainableModel;
  readonly #optimizer: tf.Optimizer;
  readonly #loss: TrainingLoss;
  readonly #batchSize: number;
  #lossSum: tf.Scalar;
  #lossCount: number;

  constructor(model: TrainableModel, optimizer: tf.Optimizer, loss: TrainingLoss, shape: { batchSize: number }, epochLoss = { sum: 0, count: 0 }) {
    this.#model = model;
    this.#optimizer = optimizer;
    this.#loss = loss;
    this.#batchSize = shape.batchSize;
    this.#lossSum = tf.scalar(epochLoss.sum);
    this.#lossCount = epochLoss.count;
  }

  /** Trains on one batch at `globalStep`; returns the batch loss when `readBack`, else null. */
  run(x: Float32Array, y: Float32Array, globalStep: number, readBack: boolean): number | null {
    let value: number | null = null;
    const nextSum = tf.tidy(() => {
      const cost = this.#withoutTape(x, y) ?? this.#minimize(x, y, globalStep);
      if (readBack) value = cost.dataSync()[0]!;
      return tf.add(this.#lossSum, cost) as tf.Scalar;
    });
    this.#lossSum.dispose();
    this.#lossSum = nextSum;
    this.#lossCount += 1;
    return value;
  }

  /** The MLP's gradients computed directly, then Adam; undefined when the model has no such path. */
  #withoutTape(x: Float32Array, y: Float32Array): tf.Scalar | undefined {
    const result = this.#model.lossAndGradients?.(x, y, this.#batchSize, this.#loss);
    if (!result) return undefined;
    this.#optimizer.applyGradients(this.#model.variables.map((variable, i) => ({ name: variable.name, tensor: result.gradients[i]! })));
    return result.cost;
  }

  /** Any model: tfjs's gradient tape. */
  #minimize(x: Float32Array, y: Float32Array, globalStep: number): tf.Scalar {
    const ys = tf.tensor2d(y, [this.#batchSize, 1]);
    return this.#optimizer.minimize(() => {
      const base = this.#loss.fn(ys, this.#model.forwardRows(x, this.#batchSize, globalStep));
      const penalty = this.#model.penalty();
      return penalty ? (tf.add(base, penalty) as tf.Scalar) : base;
    }, true, this.#model.variables)!;
  }

  /** The running sum and count of batch losses since the last reset (reads back once). */
  epochLoss(): { sum: number; count: number } {
    return { sum: this.#lossSum.dataSync()[0]!, count: this.#lossCount };
  }

  resetEpoch(): void {
    this.#lossSum.dispose();
    this.#lossSum = tf.scalar(0);
    this.#lossCount = 0;
  }

  dispose(): void {
    this.#lossSum.dispose();
  }
}
