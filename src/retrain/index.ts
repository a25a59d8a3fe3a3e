// The retrain module's public surface: the `retrain` job handler (plan → base → train →
// gate → export), the one place the other modules meet.
export { retrainJobHandler, type RetrainDependencies } from './retrain-job.ts';
export { rowsWithBaselines, rowSpecs } from './gate-baselines.ts';
