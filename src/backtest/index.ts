// The backtest module's public surface: replaying a history through the real loop and
// measuring each decision forward.
export { runBacktest, historyPartitions, summarise, type BacktestOptions, type BacktestStep, type BacktestSummary } from './backtest.ts';
export { relativeGain, shareOfClairvoyant, type DecisionGain } from '../core/decision-gain.ts';
