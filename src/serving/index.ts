// The serving module's public surface: the champion exported for model servers
// (servingDir/<version>/ and the atomic `current` link).
export { exportVersion, switchCurrent, currentServingVersion, reconcileServing, CURRENT } from './export.ts';
