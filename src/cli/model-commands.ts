// `freshet plateau`, `models`, `promote`, `rollback`: the decision-making half, for people
// (aligned text) and scripts (--json).
import os from 'node:os';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { getChampion, getLineageByName, countPromotions, listModelVersions, listPromotions, type Registry } from '../registry/index.ts';
import type { PlateauReport } from '../selection/index.ts';
import { formatSkill, promoteVersion, rollbackChampion, servingSkill } from '../promotion/index.ts';
import { markerLine, sparkline } from './sparkline.ts';
import { formatTable } from '../core/table.ts';

/** Columns of the step-level line: the steps on a log axis, where the early descent is visible. */
const STEP_COLUMNS = 64;

/** The smoothed step-level curve on a log-step axis, one column per bin, with K at the knee and ^ at the pre-plateau checkpoint (a candidate base; `freshet runs` says which base a retrain used). */
function stepCurveLines(report: PlateauReport): string[] {
  const steps = report.steps.filter((p) => p.step > 0);
  if (steps.length < 2) return [];
  const lo = Math.log(steps[0]!.step);
  const hi = Math.log(steps.at(-1)!.step);
  const column = (step: number): number => Math.min(STEP_COLUMNS - 1, Math.floor(((Math.log(Math.max(step, 1)) - lo) / (hi - lo || 1)) * STEP_COLUMNS));
  const bins: number[][] = Array.from({ length: STEP_COLUMNS }, () => []);
  for (const p of steps) bins[column(p.step)]!.push(p.smoothed);
  // An empty bin (log axis: few points early) repeats the one before it.
  let previous = steps[0]!.smoothed;
  const values = bins.map((b) => (previous = b.length ? b.reduce((a, v) => a + v, 0) / b.length : previous));
  const at = (step: number | null): number | null => (step === null ? null : column(step));
  return [
    `training loss per step ${steps[0]!.step}–${steps.at(-1)!.step}, smoothed (running median, then non-increasing), ${steps[0]!.smoothed.toPrecision(4)} → ${steps.at(-1)!.smoothed.toPrecision(4)}:`,
    `  ${sparkline(values)}`,
    `  ${markerLine(values.length, [[at(report.kneeStep), 'K'], [at(report.chosenStep), '^']])}`,
    `  (log steps, log loss) K knee${report.kneeStep === null ? ' (none)' : ` (step ${report.kneeStep})`}, ^ pre-plateau checkpoint${report.chosenStep === null ? ' (none)' : ` (step ${report.chosenStep}${report.chosenLevel === null ? '' : `, smoothed loss ${report.chosenLevel.toPrecision(4)} vs ${report.endLevel!.toPrecision(4)} at the end`})`}`,
  ];
}

export function formatPlateau(report: PlateauReport): string {
  const losses = report.points.map((p) => p.trainLoss);
  const index = (epoch: number | null) => (epoch === null ? null : report.points.findIndex((p) => p.virtualEpoch === epoch));
  const first = report.points[0]!;
  const last = report.points.at(-1)!;
  const epochs = [
    `training loss per virtual epoch ${first.virtualEpoch}–${last.virtualEpoch}, ${first.trainLoss.toPrecision(4)} → ${last.trainLoss.toPrecision(4)}:`,
    `  ${sparkline(losses)}`,
    report.method === 'epochs'
      ? `  ${markerLine(losses.length, [[index(report.plateauStartEpoch), 'P'], [index(report.chosenEpoch), '^']])}`
      : `  ${markerLine(losses.length, [[index(report.chosenEpoch), '^']])}`,
    report.method === 'epochs'
      ? `  (log scale) P plateau start${report.plateauStartEpoch === null ? ' (none yet)' : ` (epoch ${report.plateauStartEpoch})`}, ^ pre-plateau choice (epoch ${report.chosenEpoch})`
      : `  (log scale) ^ the pre-plateau checkpoint's epoch (${report.chosenEpoch}${report.chosenEpoch === 0 ? ': inside the first' : ''})`,
  ];
  return [`lineage ${report.lineage}, run ${report.run}, rule plateau.method ${report.method}:`, ...stepCurveLines(report), ...epochs, report.reason].join('\n');
}

/** The newest `limit` versions (in version order) and decisions (newest first), with the totals so a reader knows what was left out. */
export async function modelsReport(db: Registry, lineageName: string, limit = 20) {
  const lineage = await getLineageByName(db, lineageName);
  const [allVersions, champion, decisions, decisionCount] = await Promise.all([listModelVersions(db, lineage.id), getChampion(db, lineage.id), listPromotions(db, lineage.id, limit), countPromotions(db, lineage.id)]);
  // Each decision names its versions by number, whether or not they are among the versions shown.
  const numberOf = new Map(allVersions.map((v) => [v.id, v.version]));
  const named = decisions.map((d) => ({ ...d, candidate_version: d.candidate_version_id ? (numberOf.get(d.candidate_version_id) ?? null) : null, champion_version: d.champion_version_id ? (numberOf.get(d.champion_version_id) ?? null) : null }));
  return { lineage: lineage.name, champion: champion?.version ?? null, totalVersions: allVersions.length, totalDecisions: decisionCount, versions: allVersions.slice(-limit), decisions: named };
}

export function formatModels(report: Awaited<ReturnType<typeof modelsReport>>): string {
  const versions = formatTable(
    ['version', '', 'metric', 'value', 'run', 'checkpoint', 'created', 'serving'],
    report.versions.map((v) => [v.version, v.version === report.champion ? 'champion' : '', v.metric_name, v.eval_metric.toPrecision(5), v.run_id, v.checkpoint_id, v.created_at.toISOString(), v.serving_uri]),
  );
  const history = formatTable(
    ['decision', 'at', 'candidate', 'champion', 'metric', 'candidate value', 'champion value', 'naive value', 'skill', 'gate rows', 'actor', 'reason'],
    report.decisions.map((d) => [
      d.decision,
      d.created_at.toISOString(),
      d.candidate_version !== null ? `v${d.candidate_version}` : `run ${d.run_id}`,
      d.champion_version !== null ? `v${d.champion_version}` : null,
      d.metric_name,
      d.candidate_metric?.toPrecision(5),
      d.champion_metric?.toPrecision(5),
      d.naive_metric?.toPrecision(5),
      formatSkill(servingSkill(d)?.candidateSkill),
      d.eval_rows === null ? null : `${d.eval_rows}${d.holdout ? ` ${d.holdout}` : ''}`,
      d.actor,
      d.reason,
    ]),
  );
  const shown = (n: number, total: number): string => (n < total ? `, the newest ${n} of ${total} (--limit)` : '');
  return `lineage ${report.lineage}: champion ${report.champion === null ? '(none)' : `v${report.champion}`}\n\nversions${shown(report.versions.length, report.totalVersions)}\n${versions}\n\ndecisions (newest first${shown(report.decisions.length, report.totalDecisions)})\n${history}`;
}

export function actor(): string {
  return `${os.userInfo().username}@${os.hostname()} (cli)`;
}

export async function promoteCommand(db: Registry, config: ResolvedConfig, log: Logger, version: number, reason: string): Promise<string> {
  const { version: promoted, previous } = await promoteVersion(db, config.lineage, version, actor(), reason);
  // Loaded here, not at the top: `freshet models` and `plateau` load this file and need no TensorFlow.js.
  const { reconcileServing } = await import('../serving/index.ts');
  await reconcileServing(db, config, log);
  return `version ${promoted.version} is the champion of ${config.lineage} (was ${previous ? `v${previous.version}` : 'none'}); serving/${config.lineage}/current updated`;
}

export async function rollbackCommand(db: Registry, config: ResolvedConfig, log: Logger, reason: string): Promise<string> {
  const { version, previous } = await rollbackChampion(db, config.lineage, actor(), reason);
  // Loaded here, not at the top: `freshet models` and `plateau` load this file and need no TensorFlow.js.
  const { reconcileServing } = await import('../serving/index.ts');
  await reconcileServing(db, config, log);
  return `rolled back ${config.lineage} from v${previous.version} to v${version.version}; serving/${config.lineage}/current updated`;
}
