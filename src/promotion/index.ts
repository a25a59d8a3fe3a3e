// The promotion module's public surface: the evaluation gate (a pure decision on scores
// computed on the gate rows: candidate, champion, naive baselines, a paired bootstrap) and
// the transactions that record decisions and move the champion alias.
export { gateDecision, metricValue, higherIsBetter, type GateDecision, type EvalConfig } from './evaluation-gate.ts';
export { gateScores, type GateScores } from './gate-scores.ts';
export { describeBaseline, isConstant, naiveConstants, resolvedMetric, skill, median, type NaiveBaseline } from './naive-baselines.ts';
export { entityMeans, historyPartitionsNeeded, naiveSpecName, parseNaiveSpec, rowBaseline, type EntityMeans, type LabelledRows, type NaiveSpec, type RowBaseline, type ScoredRows } from './row-baselines.ts';
export { pairedBlockBootstrap, blockStarts, meanLossImprovement, type BootstrapInterval } from './paired-bootstrap.ts';
export { fallbackDecision, type FallbackInput } from './naive-fallback.ts';
export { recordGateDecision, promoteVersion, rollbackChampion } from './decisions.ts';
export { runGate, type GateRunInput } from './run-gate.ts';
export { servingSkill, type ServingSkill } from './serving-skill.ts';
export { sliceRejection, sliceScores, type SliceColumn, type SliceScore } from './slice-scores.ts';
export { formatSkill } from '../core/format-skill.ts';
