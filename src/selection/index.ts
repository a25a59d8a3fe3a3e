// The selection module's public surface: the chain of runs behind a model and its loss
// curve, the plateau rule, and the choice of the checkpoint a retrain starts from.
export { detectPlateau, smooth, DEFAULT_PLATEAU, PlateauInputError, type PlateauOptions, type PlateauResult } from './plateau.ts';
export { prePlateauStepsToKeep, selectBase, type BaseSelection, type BaseCandidate, type BasePolicy } from './base-selection.ts';
export { plateauReport, type PlateauReport } from './plateau-report.ts';
