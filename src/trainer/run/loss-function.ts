// The training loss for the configured task: mse or mae for regression, logloss for binary.
import type { ResolvedConfig } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { tf } from '../backend.ts';
import type { LossFn, LossName, TrainingLoss } from '../model/train-step.ts';

export type { LossName };

/** The loss `model.loss` names (default: mse for regression, logloss for binary); ConfigError when it does not fit the task. */
export function lossFunction(config: ResolvedConfig): TrainingLoss {
  const name = (config.model.loss ?? (config.model.task === 'binary' ? 'logloss' : 'mse')) as LossName;
  if (config.model.task === 'binary' && name !== 'logloss') throw new ConfigError(`model.loss ${name} does not fit task binary (use logloss)`);
  if (config.model.task === 'regression' && name === 'logloss') throw new ConfigError('model.loss logloss does not fit task regression (use mse or mae)');
  const fn: LossFn =
    name === 'mse'
      ? (y, p) => tf.losses.meanSquaredError(y, p) as tf.Scalar
      : name === 'mae'
        ? (y, p) => tf.losses.absoluteDifference(y, p) as tf.Scalar
        : (y, p) => tf.losses.logLoss(y, p) as tf.Scalar;
  return { name, fn };
}
