// The training step: the hot path. One fused forward/backward/Adam update inside
// optimizer.minimize, and one add into an on-device loss accumulator. Nothing is read
// back to JavaScript unless asked (a readback stalls the step: every `logEvery` steps and
// at checkpoints only).
import { tf } from '../backend.ts';
import type { TrainableModel } from './trainable-model.ts';

export type LossFn = (labels: tf.Tensor2D, predictions: tf.Tensor2D) => tf.Scalar;

export class TrainStep {
  readonly #model: TrainableModel;
  readonly #optimizer: tf.Optimizer;
  readonly #loss: LossFn;
  readonly #batchSize: number;
  #lossSum: tf.Scalar;
  #lossCount: number;

  constructor(model: TrainableModel, optimizer: tf.Optimizer, loss: LossFn, shape: { batchSize: number }, epochLoss = { sum: 0, count: 0 }) {
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
      const ys = tf.tensor2d(y, [this.#batchSize, 1]);
      const cost = this.#optimizer.minimize(() => {
        const base = this.#loss(ys, this.#model.forwardRows(x, this.#batchSize, globalStep));
        const penalty = this.#model.penalty();
        return penalty ? (tf.add(base, penalty) as tf.Scalar) : base;
      }, true, this.#model.variables)!;
      if (readBack) value = cost.dataSync()[0]!;
      return tf.add(this.#lossSum, cost) as tf.Scalar;
    });
    this.#lossSum.dispose();
    this.#lossSum = nextSum;
    this.#lossCount += 1;
    return value;
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
