// Adam with one kernel per variable on WASM (trainer/wasm-adam-update.ts); tfjs's own
// Adam everywhere else. A subclass, so the optimizer's state — iterations, the moments
// named `<variable>/m` and `/v`, accBeta1/accBeta2 — and so the checkpoint format and
// restoreOptimizer are those of tf.AdamOptimizer.
import { tf } from '../backend.ts';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../wasm-adam-update.ts';

interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== 'wasm') return super.applyGradients(variableGradients);
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const engine = tf.engine();
    tf.tidy(() => {
      // tfjs: sub(1, accBeta), a float32 subtraction; 1 − a for a float32 a in [0, 1] is exact in a double, so rounding it to float32 is that subtraction (without two kernels a step).
      const [oneMinusAccBeta1, oneMinusAccBeta2] = [Math.fround(1 - state.accBeta1.dataSync()[0]!), Math.fround(1 - state.accBeta2.dataSync()[0]!)];
      const attrs: AdamUpdateAttrs = { beta1: this.beta1, beta2: this.beta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon: this.epsilon, learningRate: this.learningRate };
      names.forEach((name, i) => {
        const value = engine.registeredVariables[name]!;
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : (variableGradients as Record<string, tf.Tensor | undefined>)[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = engine.runKernel(ADAM_UPDATE, { value, gradient, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    (this as unknown as { incrementIterations(): void }).incrementIterations();
  }
}

/** The trainer's optimizer: Adam at `learningRate` with tfjs's defaults for the rest. */
export function createAdam(learningRate: number): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, 0.9, 0.999);
}
