// The selection module's public surface: the chain of runs behind a model and its loss
// curve, the pre-plateau rules (the knee of the step-level loss, or the per-epoch
// plateau), and the choice of the checkpoint a retrain starts from.
export { detectPlateau, smooth, DEFAULT_PLATEAU, PlateauInputError, type PlateauOptions, type PlateauResult } from './plateau.ts';
export { findKnee, runningMedian, nonIncreasingFit, DEFAULT_KNEE, KneeInputError, type KneeOptions, type KneeResult } from './knee.ts';
export { prePlateauChoice, type PrePlateauChoice, type KneeRecord, type EpochsRecord } from './pre-plateau.ts';
export { prePlateauStepsToKeep, selectBase, type BaseSelection, type BaseCandidate, type BasePolicy } from './base-selection.ts';
export { plateauReport, type PlateauReport } from './plateau-report.ts';
