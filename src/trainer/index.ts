// The trainer module's public surface.
export { initBackend, tf, type BackendChoice } from './backend.ts';
export { trainRun, evaluateModel, type TrainRunOptions, type TrainRunResult, type TrainProgress } from './train-run.ts';
export { readCheckpoint, layersModelFiles, type TrainingState } from './checkpoint-io.ts';
export { loadCheckpoint, recordCheckpoint, type ArtifactStore } from './checkpoint-store.ts';
export { CorruptDirError, writeDirAtomically, readDirVerified } from './atomic-dir.ts';
export { stepsPerEpoch, effectiveStopPoint } from './virtual-epochs.ts';
export { updateEarlyStopping, initialEarlyStopping, type EarlyStoppingState } from './early-stopping.ts';
export { registeredPartitions, ensureLineage } from './lineage.ts';
export { readTable, tableSchema, DataFileError, isDataFile } from './readers/index.ts';
export { applyRetention, sweepCheckpointFiles } from './retention.ts';
export type { TrainingPartition, FeatureStats } from './dataset.ts';
export { TrainStep } from './train-step.ts';
export { buildMlp } from './model.ts';
export { modelFromCheckpoint, lineageEvalSet, evaluateCheckpoint } from './checkpoint-model.ts';
export type { EvalSet } from './dataset.ts';
