// Training throughput as observers see it: steps and examples per second since the last
// report, reported at logged steps and checkpoints — never per step — and restarted after
// a checkpoint's write, so the write's time is not counted as training.
import type { TrainObserver } from './train-observer.ts';

export class ThroughputMeter {
  readonly #observer: Pick<TrainObserver, 'onThroughput'>;
  readonly #batchSize: number;
  /** Steps this process has taken (not the run's global step: a resumed run starts at 0 here). */
  steps = 0;
  #reported = 0;
  #since = performance.now();

  constructor(observer: Pick<TrainObserver, 'onThroughput'>, batchSize: number) {
    this.#observer = observer;
    this.#batchSize = batchSize;
  }

  /** One optimizer step taken. */
  step(): void {
    this.steps += 1;
  }

  /** Reports the steps since the last report, if any. */
  report(): void {
    const now = performance.now();
    const steps = this.steps - this.#reported;
    if (steps <= 0) return;
    this.#observer.onThroughput?.({ steps, examples: steps * this.#batchSize, seconds: (now - this.#since) / 1000 });
    this.#reported = this.steps;
    this.#since = now;
  }

  /** The next figure starts now (after a checkpoint's write). */
  restart(): void {
    this.#since = performance.now();
  }
}
