// The naive baseline as a tfjs LayersModel, so a version that serves a constant
// (eval.fallback naive) is exported like any other and its consumers need no change:
// one Dense unit with a zero kernel, whose bias is the constant (regression) or the
// log-odds of the base rate behind a sigmoid (binary).
import { tf } from '../backend.ts';

export function constantModel(task: 'regression' | 'binary', inputDim: number, value: number): tf.LayersModel {
  const p = Math.min(Math.max(value, 1e-7), 1 - 1e-7);
  const bias = task === 'binary' ? Math.log(p / (1 - p)) : value;
  const model = tf.sequential({ name: 'naive_constant' });
  model.add(
    tf.layers.dense({
      inputShape: [inputDim],
      units: 1,
      activation: task === 'binary' ? 'sigmoid' : 'linear',
      kernelInitializer: 'zeros',
      biasInitializer: tf.initializers.constant({ value: bias }),
      name: 'constant',
    }),
  );
  return model;
}
