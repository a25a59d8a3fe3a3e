// `freshet backtest` on a terminal: a progress bar on the status line (steps done of all,
// the training run under way, elapsed time and an estimate of what is left), with each
// finished step printed above it. Off a terminal, one line per finished step.
import { statusLineFor } from '../core/status-line.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import type { TrainObserver } from '../trainer/index.ts';
import type { BacktestStep } from '../backtest/index.ts';

const num = (n: number | null): string => (n === null ? '-' : n.toPrecision(5));

export function stepLine(s: BacktestStep, index: number, total: number): string {
  return `freshet backtest: step ${index + 1}/${total}: ${s.decision}${s.forward !== null ? `, serving ${num(s.forward)} vs naive ${num(s.forwardNaive)} forward` : ''}\n`;
}

export class BacktestProgress {
  readonly #line;
  readonly #started = performance.now();
  #done = 0;
  #total = 0;
  #training = '';

  readonly stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
    this.#line = stream.isTTY ? statusLineFor(stream) : undefined;
  }

  /** Hears the retrain job's training runs, for the bar's "epoch e/E". */
  readonly observer: TrainObserver = {
    onProgress: (p) => {
      this.#training = ` · run ${p.runId} epoch ${p.virtualEpoch}/${p.targetEpochs}`;
      this.#draw();
    },
  };

  step(s: BacktestStep, index: number, total: number): void {
    this.#done = index + 1;
    this.#total = total;
    this.#training = '';
    if (this.#line) this.#line.writeAbove(stepLine(s, index, total));
    else this.stream.write(stepLine(s, index, total));
    this.#draw();
  }

  finish(): void {
    this.#line?.finish();
  }

  #draw(): void {
    if (!this.#line) return;
    const elapsed = (performance.now() - this.#started) / 1000;
    const width = 24;
    const filled = this.#total ? Math.round((this.#done / this.#total) * width) : 0;
    // The first step trains the first model and costs more than the rest: the estimate is rough early on.
    const left = this.#done > 0 && this.#total > this.#done ? `, about ${humanSeconds((elapsed / this.#done) * (this.#total - this.#done))} left` : '';
    this.#line.set(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${this.#done}/${this.#total || '?'}${this.#training} · ${humanSeconds(elapsed)}${left}`);
  }
}
