// `freshet plateau`, `models`, `promote`, `rollback`: the decision-making half, for people
// (aligned text) and scripts (--json).
import os from 'node:os';
import type { ResolvedConfig } from './config.ts';
import { UsageError } from './errors.ts';
import type { Logger } from './log.ts';
import { CHAMPION, findLineageByName, getAliasedVersion, getLineage, getRun, listModelVersions, listPromotions, type Registry } from './registry/index.ts';
import { chainCurve, detectPlateau, headRun, promoteVersion, reconcileServing, rollbackChampion } from './scheduler/index.ts';
import { markerLine, sparkline } from './sparkline.ts';
import { formatTable } from './table.ts';

async function lineageOrThrow(db: Registry, name: string) {
  const lineage = await findLineageByName(db, name);
  if (!lineage) throw new UsageError(`lineage "${name}" does not exist (train a first model, or check \`lineage\` in the configuration)`);
  return lineage;
}

export interface PlateauReport {
  lineage: string;
  run: string;
  points: Array<{ run: string; virtualEpoch: number; globalStep: number; trainLoss: number; valLoss: number | null; checkpoint: string | null }>;
  plateauStartEpoch: number | null;
  chosenEpoch: number;
  reason: string;
  options: ResolvedConfig['plateau'];
}

/** The loss curve behind a run (a number) or behind a lineage's champion (a name), with the plateau choice. */
export async function plateauReport(db: Registry, config: ResolvedConfig, target: string): Promise<PlateauReport> {
  let runId: string;
  let lineageName: string;
  if (/^\d+$/.test(target)) {
    const run = await getRun(db, target).catch(() => {
      throw new UsageError(`run ${target} does not exist`);
    });
    runId = run.id;
    lineageName = (await getLineage(db, run.lineage_id)).name;
  } else {
    await lineageOrThrow(db, target);
    const head = await headRun(db, target);
    if (!head) throw new UsageError(`lineage "${target}" has no finished run yet`);
    runId = head.runId;
    lineageName = target;
  }
  const curve = await chainCurve(db, runId);
  if (curve.length === 0) throw new UsageError(`run ${runId} has no completed virtual epoch yet`);
  const result = detectPlateau(curve.map((p) => p.trainLoss), config.plateau, curve.map((p) => p.virtualEpoch));
  return {
    lineage: lineageName,
    run: runId,
    points: curve.map((p) => ({ run: p.runId, virtualEpoch: p.virtualEpoch, globalStep: p.globalStep, trainLoss: p.trainLoss, valLoss: p.valLoss, checkpoint: p.checkpointId })),
    plateauStartEpoch: result.plateauStart === null ? null : curve[result.plateauStart]!.virtualEpoch,
    chosenEpoch: curve[result.chosen]!.virtualEpoch,
    reason: result.reason,
    options: config.plateau,
  };
}

export function formatPlateau(report: PlateauReport): string {
  const losses = report.points.map((p) => p.trainLoss);
  const index = (epoch: number | null) => (epoch === null ? null : report.points.findIndex((p) => p.virtualEpoch === epoch));
  const first = report.points[0]!;
  const last = report.points.at(-1)!;
  return [
    `lineage ${report.lineage}, run ${report.run}: training loss per virtual epoch ${first.virtualEpoch}–${last.virtualEpoch}, ${first.trainLoss.toPrecision(4)} → ${last.trainLoss.toPrecision(4)}`,
    `  ${sparkline(losses)}`,
    `  ${markerLine(losses.length, [[index(report.plateauStartEpoch), 'P'], [index(report.chosenEpoch), '^']])}`,
    `  (log scale) P plateau start${report.plateauStartEpoch === null ? ' (none yet)' : ` (epoch ${report.plateauStartEpoch})`}, ^ pre-plateau choice (epoch ${report.chosenEpoch})`,
    report.reason,
  ].join('\n');
}

export async function modelsReport(db: Registry, lineageName: string) {
  const lineage = await lineageOrThrow(db, lineageName);
  const [versions, champion, decisions] = await Promise.all([listModelVersions(db, lineage.id), getAliasedVersion(db, lineage.id, CHAMPION), listPromotions(db, lineage.id, 20)]);
  return { lineage: lineage.name, champion: champion?.version ?? null, versions, decisions };
}

export function formatModels(report: Awaited<ReturnType<typeof modelsReport>>): string {
  const versions = formatTable(
    ['version', '', 'metric', 'value', 'run', 'checkpoint', 'created', 'serving'],
    report.versions.map((v) => [v.version, v.version === report.champion ? 'champion' : '', v.metric_name, v.eval_metric.toPrecision(5), v.run_id, v.checkpoint_id, v.created_at.toISOString(), v.serving_uri]),
  );
  const byId = new Map(report.versions.map((v) => [v.id, v.version]));
  const history = formatTable(
    ['decision', 'at', 'candidate', 'champion', 'metric', 'candidate value', 'champion value', 'eval rows', 'actor', 'reason'],
    report.decisions.map((d) => [
      d.decision,
      d.created_at.toISOString(),
      d.candidate_version_id ? `v${byId.get(d.candidate_version_id)}` : `run ${d.run_id}`,
      d.champion_version_id ? `v${byId.get(d.champion_version_id)}` : null,
      d.metric_name,
      d.candidate_metric?.toPrecision(5),
      d.champion_metric?.toPrecision(5),
      d.eval_rows,
      d.actor,
      d.reason,
    ]),
  );
  return `lineage ${report.lineage}: champion ${report.champion === null ? '(none)' : `v${report.champion}`}\n\n${versions}\n\ndecisions (newest first)\n${history}`;
}

export function actor(): string {
  return `${os.userInfo().username}@${os.hostname()} (cli)`;
}

export async function promoteCommand(db: Registry, config: ResolvedConfig, log: Logger, version: number, reason: string): Promise<string> {
  const { version: promoted, previous } = await promoteVersion(db, config.lineage, version, actor(), reason);
  await reconcileServing(db, config, log);
  return `version ${promoted.version} is the champion of ${config.lineage} (was ${previous ? `v${previous.version}` : 'none'}); serving/current updated`;
}

export async function rollbackCommand(db: Registry, config: ResolvedConfig, log: Logger, reason: string): Promise<string> {
  const { version, previous } = await rollbackChampion(db, config.lineage, actor(), reason);
  await reconcileServing(db, config, log);
  return `rolled back ${config.lineage} from v${previous.version} to v${version.version}; serving/current updated`;
}
