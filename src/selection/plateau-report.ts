// The loss curve behind a run or a lineage's champion, with the plateau rule's choice:
// what `freshet plateau`, `freshet status` and the status page draw.
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import { chainCurve, getLineage, getLineageByName, getRun, headRunId, type Registry } from '../registry/index.ts';
import { detectPlateau } from './plateau.ts';

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
    const run = await getRun(db, target);
    runId = run.id;
    lineageName = (await getLineage(db, run.lineage_id)).name;
  } else {
    const head = await headRunId(db, (await getLineageByName(db, target)).id);
    if (!head) throw new NotFoundError(`lineage "${target}" has no finished run yet`);
    runId = head;
    lineageName = target;
  }
  const curve = await chainCurve(db, runId);
  if (curve.length === 0) throw new NotFoundError(`run ${runId} has no completed virtual epoch yet`);
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
