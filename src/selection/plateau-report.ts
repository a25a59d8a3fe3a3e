// The loss curve behind a run or a lineage's champion, with the pre-plateau rule's choice:
// what `freshet plateau`, `freshet status` and the status page draw: the per-epoch curve,
// and the step-level curve (loss_points) with the knee and the chosen checkpoint.
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import { chainCurve, getLineage, getLineageByName, getRun, headRunId, type Registry } from '../registry/index.ts';
import { detectPlateau } from './plateau.ts';
import { prePlateauChoice, type KneeRecord } from './pre-plateau.ts';

export interface PlateauReport {
  lineage: string;
  run: string;
  points: Array<{ run: string; virtualEpoch: number; globalStep: number; trainLoss: number; valLoss: number | null; checkpoint: string | null }>;
  /** epochs rule: where the plateau starts (null: none yet, or the knee rule is in use). */
  plateauStartEpoch: number | null;
  /** The chosen checkpoint's virtual epoch (0: inside the first one). */
  chosenEpoch: number;
  method: ResolvedConfig['plateau']['method'];
  /** The step-level curve (thinned), smoothed as the knee rule smooths it. */
  steps: Array<{ step: number; loss: number; smoothed: number }>;
  kneeStep: number | null;
  chosenStep: number | null;
  /** Smoothed loss at the chosen checkpoint and at the curve's end (knee rule). */
  chosenLevel: number | null;
  endLevel: number | null;
  reason: string;
  /** The training loss the curve is in (model.loss, or the task's default): the charts' y-axis unit. */
  lossName: string;
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
  const choice = await prePlateauChoice(db, config, runId);
  const knee = choice.record.method === 'knee' ? choice.record : undefined;
  const kneeShape = knee ? choice : await prePlateauChoice(db, { ...config, plateau: { ...config.plateau, method: 'knee' } }, runId); // the step curve, whatever the rule
  return {
    lossName: config.model.loss ?? (config.model.task === 'binary' ? 'logloss' : 'mse'),
    lineage: lineageName,
    run: runId,
    points: curve.map((p) => ({ run: p.runId, virtualEpoch: p.virtualEpoch, globalStep: p.globalStep, trainLoss: p.trainLoss, valLoss: p.valLoss, checkpoint: p.checkpointId })),
    plateauStartEpoch: knee || result.plateauStart === null ? null : curve[result.plateauStart]!.virtualEpoch,
    chosenEpoch: choice.checkpoint?.virtualEpoch ?? curve[result.chosen]!.virtualEpoch,
    method: config.plateau.method,
    steps: (kneeShape.record as KneeRecord).curve,
    kneeStep: knee?.kneeStep ?? null,
    chosenStep: choice.checkpoint?.globalStep ?? null,
    chosenLevel: knee?.chosenLevel ?? null,
    endLevel: knee?.endLevel ?? null,
    reason: choice.reason,
    options: config.plateau,
  };
}
