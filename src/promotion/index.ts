// The promotion module's public surface: the evaluation gate (a pure decision) and the
// transactions that record decisions and move the champion alias.
export { gateDecision, metricValue, higherIsBetter, type GateDecision } from './evaluation-gate.ts';
export { recordGateDecision, promoteVersion, rollbackChampion } from './decisions.ts';
