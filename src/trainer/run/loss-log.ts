// Which steps read the training loss back from the device, and what a logged point is.
//
// The loss is read back every `logEvery` steps; with early checkpoints (the lineage's first
// runs), also at those steps and at each power of two below `logEvery`: the knee is found
// where the loss falls fastest. A logged point is the mean batch loss since the previous
// point, not one batch's: one batch of heavy-tailed labels is noise enough to hide a
// descent, and a readback of the running sum costs the same as one of the batch loss.

export interface RunningLoss {
  sum: number;
  count: number;
}

export class LossLog {
  readonly #logEvery: number;
  readonly #earlySteps: ReadonlySet<number>;
  /** The running sum at the previous logged point (after a resume: at the checkpoint). */
  #window: RunningLoss;
  /** The newest logged point, for progress reports. */
  last: number | null = null;

  constructor(logEvery: number, earlySteps: ReadonlySet<number>, epochLoss: RunningLoss) {
    this.#logEvery = logEvery;
    this.#earlySteps = earlySteps;
    this.#window = { ...epochLoss };
  }

  /** True when the step that ends at `step` (1-based global step) reads the loss back. */
  readsBackAt(step: number): boolean {
    if (step % this.#logEvery === 0) return true;
    return this.#earlySteps.size > 0 && (this.#earlySteps.has(step) || (step < this.#logEvery && (step & (step - 1)) === 0));
  }

  /** The logged point from the epoch's running loss, read back at this step. */
  point(running: RunningLoss): number {
    const loss = (running.sum - this.#window.sum) / (running.count - this.#window.count);
    this.#window = running;
    this.last = loss;
    return loss;
  }

  /** A virtual epoch closed: its running sum starts again from zero. */
  resetEpoch(): void {
    this.#window = { sum: 0, count: 0 };
  }
}
