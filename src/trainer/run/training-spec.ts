// The configuration compiled, once, into what the trainer's parts take: the column spec
// the readers and the stream use, the split (validation share, seed, invalid-row rule) and
// the loss. Built once per configuration object (a resolved config is frozen, so the
// WeakMap's key is its identity) instead of at every use, and checked when built: a loss
// that does not fit the task is refused here (and already by loadConfig).
import type { ResolvedConfig } from '../../core/config.ts';
import type { ColumnSpec, SplitSpec } from '../stream/stream-spec.ts';
import { lossFunction, type LossName } from './loss-function.ts';
import type { LossFn } from '../model/train-step.ts';

export interface TrainingSpec {
  columns: ColumnSpec;
  split: SplitSpec;
  loss: { name: LossName; fn: LossFn };
}

const compiled = new WeakMap<ResolvedConfig, TrainingSpec>();

export function trainingSpec(config: ResolvedConfig): TrainingSpec {
  let spec = compiled.get(config);
  if (!spec) {
    spec = Object.freeze({
      columns: Object.freeze({ features: config.columns.features, categorical: config.columns.categorical, crosses: config.columns.crosses, label: config.columns.label, task: config.model.task }),
      split: Object.freeze({ evalFraction: config.training.evalFraction, seed: config.training.seed, invalidRows: config.training.invalidRows }),
      loss: lossFunction(config),
    });
    compiled.set(config, spec);
  }
  return spec;
}
