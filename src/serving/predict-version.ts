// What a model version predicts: its checkpoint's network, or, for a version that serves
// the naive baseline (eval.fallback naive), its constant. Every score of "the champion"
// (the gate, the backtest) goes through here, so a constant champion is scored as served.
import type { ResolvedConfig } from '../core/config.ts';
import { getCheckpoint, type ModelVersion, type Registry } from '../registry/index.ts';
import { predictCheckpoint, type EvalSet } from '../trainer/index.ts';

export async function predictVersion(db: Registry, config: ResolvedConfig, version: ModelVersion, set: EvalSet): Promise<Float32Array> {
  if (version.constant !== null) return new Float32Array(set.rows).fill(version.constant);
  return predictCheckpoint(db, config, await getCheckpoint(db, version.checkpoint_id), set);
}
