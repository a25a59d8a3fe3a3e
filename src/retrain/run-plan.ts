// The plan of a retrain job: which registered partitions the run trains on, validates on,
// replays and keeps back for the gate, and from which checkpoint it starts. The validation
// rows it reads to score the base candidates are handed on to the run and its gate. (The
// gate reads the run's partitions again after training, on purpose: one superseded
// meanwhile has other files on disk.)
import type { ResolvedConfig } from '../core/config.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { findLineageByName, freshPartitions, headRunId, type Registry } from '../registry/index.ts';
import { checkpointScorer, lineageEvalSet, registeredPartitions, type EvalSet, type TrainingPartition } from '../trainer/index.ts';
import { selectBase, type BaseSelection } from '../selection/index.ts';
import { splitHoldout } from './holdout.ts';

export interface Plan {
  kind: 'initial' | 'retrain';
  train: TrainingPartition[];
  eval: TrainingPartition[];
  /** The forward holdout: kept out of training, validation and the base choice (role `gate`). */
  gate: TrainingPartition[];
  base: BaseSelection | undefined;
  virtualEpochs: number | undefined;
  /** The validation rows, read once for scoring the base candidates and reused by the run. */
  evalSet: EvalSet | undefined;
}

/** The registered partitions that are fresh, each with its registration time (for the holdout's order). */
async function freshWithArrival(db: Registry, registered: TrainingPartition[], lineage: { id: string | null; source: string }): Promise<Array<TrainingPartition & { arrivedAt: Date }>> {
  const fresh = new Map((await freshPartitions(db, lineage)).map((p) => [p.id, p.arrivedAt]));
  return registered.filter((p) => fresh.has(p.id)).map((p) => ({ ...p, arrivedAt: fresh.get(p.id)! }));
}

/** What to train on, validate on, gate on and from where; undefined when the champion has seen every partition. */
export async function planRun(db: Registry, config: ResolvedConfig, log: Logger): Promise<Plan | undefined> {
  const registered = await registeredPartitions(db, config);
  const lineage = await findLineageByName(db, config.lineage);
  const head = lineage ? await headRunId(db, lineage.id) : undefined;
  if (!lineage || !head) {
    if (registered.length === 0) throw new NotFoundError('no registered partitions to train on');
    const split = splitHoldout(await freshWithArrival(db, registered, { id: null, source: config.dataDir }), config.eval);
    log.info({ holdout: split.holdout, gate: split.gate.map((p) => p.path) }, `first model; gate rows: ${split.note}`);
    return { kind: 'initial', train: split.train, eval: split.train, gate: split.gate, base: undefined, virtualEpochs: undefined, evalSet: undefined };
  }
  const fresh = await freshWithArrival(db, registered, { id: lineage.id, source: config.dataDir });
  if (fresh.length === 0) return undefined;
  const split = splitHoldout(fresh, config.eval);
  const freshIds = new Set(fresh.map((p) => p.id));
  const older = registered.filter((p) => !freshIds.has(p.id)); // path order: the newest last (dt=…)
  const replay = (config.retrain.replayPartitions > 0 ? older.slice(-config.retrain.replayPartitions) : []).map((p) => ({
    ...p,
    replay: true,
    sample: config.retrain.replayFraction,
  }));
  const trainFresh = split.train;
  log.info({ holdout: split.holdout, gate: split.gate.map((p) => p.path), train: trainFresh.length, replay: replay.length }, `gate rows: ${split.note}`);
  const evalSet = await lineageEvalSet(db, config, lineage.id, trainFresh);
  const base = await selectBase(db, config, head, checkpointScorer(db, config, evalSet), log);
  return { kind: 'retrain', train: [...trainFresh, ...replay], eval: trainFresh, gate: split.gate, base, virtualEpochs: config.retrain.virtualEpochs, evalSet };
}
