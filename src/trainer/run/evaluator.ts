// The validation side of a run: measures the model on the run's eval set into the state
// (the next checkpoint row's val_loss and metrics) and, at a check, feeds early stopping.
// The measurement itself is given (`evaluateModel` on the run's model and eval set), so
// this unit's rules are tested without a model.
import type { TrainingState } from '../checkpoints/checkpoint-io.ts';
import { updateEarlyStopping, type EarlyStoppingArgs } from './early-stopping.ts';

export type Measure = () => { valLoss: number; metrics: Record<string, number> };

export class Evaluator {
  readonly #measure: Measure;
  readonly #earlyStopping: EarlyStoppingArgs;
  readonly #state: TrainingState;

  constructor(measure: Measure, earlyStopping: EarlyStoppingArgs, state: TrainingState) {
    this.#measure = measure;
    this.#earlyStopping = earlyStopping;
    this.#state = state;
  }

  /** Validation loss and metrics for the next checkpoint row, without an early-stopping check. */
  measure(): number {
    const { valLoss, metrics } = this.#measure();
    this.#state.valLoss = valLoss;
    this.#state.metrics = metrics;
    return valLoss;
  }

  /** A measurement that counts for early stopping (an epoch's end, a periodic checkpoint). */
  check(): void {
    const state = this.#state;
    const valLoss = this.measure();
    state.earlyStopping = updateEarlyStopping(state.earlyStopping, this.#earlyStopping, valLoss, { step: state.globalStep, virtualEpoch: state.virtualEpoch });
  }
}
