// Which checkpoint a retrain starts from (`retrain.base`). Every candidate is scored on
// the fresh eval rows whatever the policy, and the whole choice is stored on the run
// (runs.base_selection) and on the gate's decision (promotions.base_candidates), so the
// policies can be compared on real runs with SQL. The scores come from a CheckpointScorer
// the caller gives (the trainer's): this module loads no TensorFlow.js, so the status
// report and page, which read the plateau from here, do not either.
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { chainCurve, getCheckpoint, getLineage, getRun, type CurvePoint, type Registry } from '../registry/index.ts';
import type { CheckpointScorer } from '../trainer/index.ts';
import { detectPlateau } from './plateau.ts';
import { prePlateauChoice, type EpochsRecord, type KneeRecord } from './pre-plateau.ts';

export type BasePolicy = ResolvedConfig['retrain']['base'];
type CandidateName = 'pre-plateau' | 'last' | 'best-val';

export interface BaseCandidate {
  name: CandidateName;
  checkpointId: string;
  runId: string;
  virtualEpoch: number;
  globalStep: number;
  /** Loss on the fresh eval rows before retraining; null without eval rows. */
  score: number | null;
}

export interface BaseSelection {
  policy: BasePolicy;
  /** The checkpoint to start from; null = from scratch. */
  chosen: BaseCandidate | null;
  candidates: BaseCandidate[];
  /** The pre-plateau rule's decision on the chain's curve, with the numbers behind it. */
  plateau: KneeRecord | EpochsRecord | null;
  reason: string;
  evalRows: number;
}

/**
 * The steps of run `runId` whose checkpoints retention must keep so that the pre-plateau
 * checkpoint `selectBase` will look for survives.
 * knee: the checkpoint the rule chooses on the chain's step-level curve so far, and every
 * early, log-spaced checkpoint of the run (a bounded set, the lineage's schedule): the
 * knee moves as the curve grows (on the flight-delay stream it settled at step 150 after
 * the early checkpoints had gone, when only the choice was kept), and it lies among them.
 * epochs: the plateau at index p can only be seen once p + window points exist, and it
 * never moves after (it depends on the points up to p + window only), so: once seen, keep
 * its choice; until then, keep the last window + offset + 1 epoch checkpoints.
 */
export async function prePlateauStepsToKeep(db: Registry, config: ResolvedConfig, runId: string): Promise<number[]> {
  if (config.plateau.method === 'knee') {
    const choice = await prePlateauChoice(db, config, runId);
    const keep = choice.checkpoint && choice.checkpoint.runId === runId ? [choice.checkpoint.globalStep] : [];
    keep.push(...(await getLineage(db, (await getRun(db, runId)).lineage_id)).early_checkpoint_steps);
    return keep;
  }
  const curve = await chainCurve(db, runId);
  if (curve.length === 0) return [];
  const plateau = detectPlateau(curve.map((p) => p.trainLoss), config.plateau);
  const keep = plateau.plateauStart !== null ? [curve[plateau.chosen]!] : curve.slice(-(config.plateau.window + config.plateau.offset + 1));
  return keep.filter((p) => p.runId === runId).map((p) => p.globalStep);
}

export async function selectBase(db: Registry, config: ResolvedConfig, headRunId: string | undefined, evalSet: CheckpointScorer, log: Logger): Promise<BaseSelection> {
  const policy = config.retrain.base;
  const curve = headRunId ? await chainCurve(db, headRunId) : [];
  const kept = curve.filter((p) => p.checkpointId);
  if (kept.length === 0) {
    return { policy, chosen: null, candidates: [], plateau: null, reason: 'no checkpoint on the loss curve yet: training from scratch', evalRows: evalSet.rows };
  }
  const choice = await prePlateauChoice(db, config, headRunId!);
  const prePlateau = choice.checkpoint!;
  const last = kept.at(-1)!;
  const withVal = kept.filter((p) => p.valLoss !== null && Number.isFinite(p.valLoss));
  const bestVal = withVal.length ? withVal.reduce((a, b) => (b.valLoss! < a.valLoss! ? b : a)) : last;

  const scores = new Map<string, number | null>();
  for (const point of [prePlateau, last, bestVal]) {
    if (scores.has(point.checkpointId!)) continue;
    const score = evalSet.rows > 0 ? await evalSet.valLoss(await getCheckpoint(db, point.checkpointId!)) : null;
    scores.set(point.checkpointId!, score);
  }
  const candidate = (name: CandidateName, p: Pick<CurvePoint, 'checkpointId' | 'runId' | 'virtualEpoch' | 'globalStep'>): BaseCandidate => ({ name, checkpointId: p.checkpointId!, runId: p.runId, virtualEpoch: p.virtualEpoch, globalStep: p.globalStep, score: scores.get(p.checkpointId!) ?? null });
  const candidates = [candidate('pre-plateau', prePlateau), candidate('last', last), candidate('best-val', bestVal)];

  let chosen: BaseCandidate | null;
  let why: string;
  const plateauNote = `The pre-plateau candidate: ${choice.reason}.`;
  if (policy === 'scratch') {
    chosen = null;
    why = 'retrain.base is scratch';
  } else if (policy === 'auto') {
    const scored = candidates.filter((c) => c.score !== null);
    chosen = scored.length ? scored.reduce((a, b) => (b.score! < a.score! ? b : a)) : candidates[0]!; // ties keep the earlier (pre-plateau first)
    why = scored.length
      ? `the lowest loss on ${evalSet.rows} fresh eval rows among ${candidates.map((c) => `${c.name} (step ${c.globalStep}, epoch ${c.virtualEpoch}) ${c.score!.toPrecision(4)}`).join(', ')} (retrain.base auto). ${plateauNote}`
      : `no fresh eval rows to score the candidates on, so the pre-plateau one (retrain.base auto). ${plateauNote}`;
  } else {
    chosen = candidates.find((c) => c.name === policy)!;
    why = `retrain.base is ${policy}.${policy === 'pre-plateau' ? ` ${plateauNote}` : ''}`;
  }
  // One plain sentence first: the base used, then why (the plateau's checkpoint is a candidate, not the choice).
  const reason = chosen ? `retrained from ${chosen.name} (step ${chosen.globalStep}, virtual epoch ${chosen.virtualEpoch}): ${why}` : `trained from scratch: ${why}`;
  log.info({ policy, base: chosen?.checkpointId ?? null, epoch: chosen?.virtualEpoch ?? null, reason }, 'retrain base chosen');
  return {
    policy,
    chosen,
    candidates,
    plateau: choice.record,
    reason,
    evalRows: evalSet.rows,
  };
}
