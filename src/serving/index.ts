// The serving module's public surface: the champion exported for model servers
// (servingDir/<version>/ and the atomic `current` link), and what a version predicts.
export { predictVersion } from './predict-version.ts';
export { exportVersion, switchCurrent, currentServingVersion, reconcileServing, CURRENT } from './export.ts';
