// The naive baseline as a tfjs LayersModel, so a version that serves a constant
// (eval.fallback naive) is exported like any other and its consumers need no change:
// one Dense unit with a zero kernel, whose bias is the constant (regression) or the
// log-odds of the base rate behind a sigmoid (binary).
import { tf } from '../backend.ts';
import type { InputLayout } from './input-layout.ts';

export function constantModel(task: 'regression' | 'binary', input: number | InputLayout, value: number): tf.LayersModel {
  const layout: InputLayout = typeof input === 'number' ? { numeric: input, categorical: [] } : input;
  const p = Math.min(Math.max(value, 1e-7), 1 - 1e-7);
  const bias = task === 'binary' ? Math.log(p / (1 - p)) : value;
  const constant = (inputShape?: number[]) =>
    tf.layers.dense({
      ...(inputShape ? { inputShape } : {}),
      units: 1,
      activation: task === 'binary' ? 'sigmoid' : 'linear',
      kernelInitializer: 'zeros',
      biasInitializer: tf.initializers.constant({ value: bias }),
      name: 'constant',
    });
  if (layout.categorical.length === 0) {
    const model = tf.sequential({ name: 'naive_constant' });
    model.add(constant([layout.numeric]));
    return model;
  }
  // The same inputs as the lineage's models (numeric, then one id input per categorical
  // column), so consumers call it exactly as they call a model version.
  const inputs = [
    ...(layout.numeric > 0 ? [tf.input({ shape: [layout.numeric], name: 'numeric' })] : []),
    ...layout.categorical.map((_, k) => tf.input({ shape: [1], name: `category_${k}` })),
  ];
  const joined = inputs.length > 1 ? (tf.layers.concatenate().apply(inputs) as tf.SymbolicTensor) : inputs[0]!;
  return tf.model({ inputs, outputs: constant().apply(joined) as tf.SymbolicTensor, name: 'naive_constant' });
}
