// The trainer module's public surface: TensorFlow.js backends and models (model/), the
// batch streams (stream/), full-state checkpoints (checkpoints/) and the run loop with
// its observer (run/).
export { initBackend, tf, type BackendChoice } from './backend.ts';
export { trainRun, type TrainRunOptions, type TrainRunResult } from './run/train-run.ts';
export { type TrainObserver, type TrainProgress, type CheckpointEvent } from './run/train-observer.ts';
export { evaluateModel, predict } from './model/evaluate.ts';
export { predictRows } from './model/predict-rows.ts';
export { readCheckpoint, layersModelFiles, type TrainingState } from './checkpoints/checkpoint-io.ts';
export { loadCheckpoint, artifactStore, type ArtifactStore, type ArtifactStoreKind } from './checkpoints/checkpoint-store.ts';
export { CorruptDirError, writeDirAtomically, readDirVerified } from './checkpoints/atomic-dir.ts';
export { stepsPerEpoch, effectiveStopPoint } from './run/virtual-epochs.ts';
export { updateEarlyStopping, initialEarlyStopping, type EarlyStoppingState } from './run/early-stopping.ts';
export { registeredPartitions, ensureLineage, comparePaths } from './run/lineage.ts';
export { assertLineageDefinition, definitionDifferences } from './run/lineage-definition.ts';
export { STREAM_CACHE_DIR } from './run/stream-cache-dir.ts';
export { applyRetention, sweepCheckpointFiles } from './checkpoints/retention.ts';
export type { TrainingPartition, FeatureStats } from './stream/stream-spec.ts';
export { categoricalColumnValues, type EvalSet, type EvalSetSide } from './stream/eval-set.ts';
export { TrainStep } from './model/train-step.ts';
export { createAdam, FusedAdamOptimizer } from './model/fused-adam.ts';
export { buildMlp } from './model/trainable-model.ts';
export { checkpointModel, modelFromCheckpoint, lineageEvalSet, evaluateCheckpoint, checkpointScorer, type CheckpointScorer } from './checkpoints/checkpoint-model.ts';
export { evaluateAll, rowLosses, rocAuc, type MetricName } from '../core/eval-metrics.ts';
export { trainingSpec, type TrainingSpec } from './run/training-spec.ts';
export { predictCheckpoint, lineageGateSet, labelHistory, trainingWindowLabels } from './checkpoints/checkpoint-model.ts';
export type { LabelHistory } from './stream/label-history.ts';
export type { SideColumns } from './stream/valid-rows.ts';
export { runPartitions } from './run/run-start.ts';
export { constantModel } from './model/constant-model.ts';
export { inputLayout, modelInputs, type InputLayout } from './model/input-layout.ts';
