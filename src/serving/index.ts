// The serving module's public surface: the champion exported for model servers
// (servingDir/<lineage>/<version>/ and the atomic `<lineage>/current` link), and what a version predicts.
export { predictVersion } from './predict-version.ts';
export { exportVersion, currentServingVersion, reconcileServing, CURRENT } from './export.ts';
export { Predictor, type RowError } from './predictor.ts';
export { ChampionPredictor } from './champion-predictor.ts';
export { ModelServer, type ModelSource } from './model-server.ts';
export { predictEndpoint, type PredictOutcome } from './predict-endpoint.ts';
export { batchPredict, inputFiles, type BatchPredictSummary } from './batch-predict.ts';
export { modelsEndpoint, modelEndpoint } from './models-endpoint.ts';
