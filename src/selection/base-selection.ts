// Which checkpoint a retrain starts from (`retrain.base`). Every candidate is scored on
// the fresh eval rows whatever the policy, and the whole choice is stored on the run
// (runs.base_selection) and on the gate's decision (promotions.base_candidates), so the
// policies can be compared on real runs with SQL.
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { chainCurve, getCheckpoint, type CurvePoint, type Registry } from '../registry/index.ts';
import { evaluateCheckpoint, type EvalSet } from '../trainer/index.ts';
import { detectPlateau } from './plateau.ts';

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
  /** The plateau decision on the chain's curve, with the numbers behind it. */
  plateau: {
    start: number | null;
    chosenEpoch: number;
    reason: string;
    gainAhead: number | null;
    gainSoFar: number | null;
    curve: Array<{ virtualEpoch: number; trainLoss: number; smoothed: number }>;
    alpha: number;
    window: number;
    minGain: number;
    offset: number;
  } | null;
  reason: string;
  evalRows: number;
}

/** The point with a checkpoint at `index` or the nearest one before it (retention may have removed some). */
function keptAtOrBefore(curve: readonly CurvePoint[], index: number): CurvePoint | undefined {
  for (let i = index; i >= 0; i--) if (curve[i]!.checkpointId) return curve[i];
  return curve.slice(index + 1).find((p) => p.checkpointId);
}

/**
 * The steps of run `runId` whose checkpoints retention must keep so that the pre-plateau
 * checkpoint `selectBase` will look for survives. The plateau is found on the chain's
 * curve (the run's ancestors up to its base, then the run), as `selectBase` finds it. The
 * plateau at index p can only be seen once p + window points exist, and it never moves
 * after (it depends on the points up to p + window only), so: once seen, keep its choice;
 * until then, keep the last window + offset + 1 epoch checkpoints, among which the choice
 * will fall. Ancestors' checkpoints were kept by the same rule on their own chains; where
 * this chain finds a plateau an ancestor's did not, selectBase takes the nearest kept
 * checkpoint before it and says so.
 */
export async function prePlateauStepsToKeep(db: Registry, config: ResolvedConfig, runId: string): Promise<number[]> {
  const curve = await chainCurve(db, runId);
  if (curve.length === 0) return [];
  const plateau = detectPlateau(curve.map((p) => p.trainLoss), config.plateau);
  const keep = plateau.plateauStart !== null ? [curve[plateau.chosen]!] : curve.slice(-(config.plateau.window + config.plateau.offset + 1));
  return keep.filter((p) => p.runId === runId).map((p) => p.globalStep);
}

export async function selectBase(db: Registry, config: ResolvedConfig, headRunId: string | undefined, evalSet: EvalSet, log: Logger): Promise<BaseSelection> {
  const policy = config.retrain.base;
  const curve = headRunId ? await chainCurve(db, headRunId) : [];
  const kept = curve.filter((p) => p.checkpointId);
  if (kept.length === 0) {
    return { policy, chosen: null, candidates: [], plateau: null, reason: 'no checkpoint on the loss curve yet: training from scratch', evalRows: evalSet.rows };
  }
  const plateau = detectPlateau(curve.map((p) => p.trainLoss), config.plateau, curve.map((p) => p.virtualEpoch));
  const prePlateau = keptAtOrBefore(curve, plateau.chosen)!;
  const last = kept.at(-1)!;
  const withVal = kept.filter((p) => p.valLoss !== null && Number.isFinite(p.valLoss));
  const bestVal = withVal.length ? withVal.reduce((a, b) => (b.valLoss! < a.valLoss! ? b : a)) : last;

  const scores = new Map<string, number | null>();
  for (const point of [prePlateau, last, bestVal]) {
    if (scores.has(point.checkpointId!)) continue;
    const score = evalSet.rows > 0 ? (await evaluateCheckpoint(db, config, await getCheckpoint(db, point.checkpointId!), evalSet)).valLoss : null;
    scores.set(point.checkpointId!, score);
  }
  const candidate = (name: CandidateName, p: CurvePoint): BaseCandidate => ({ name, checkpointId: p.checkpointId!, runId: p.runId, virtualEpoch: p.virtualEpoch, globalStep: p.globalStep, score: scores.get(p.checkpointId!) ?? null });
  const candidates = [candidate('pre-plateau', prePlateau), candidate('last', last), candidate('best-val', bestVal)];

  let chosen: BaseCandidate | null;
  let reason: string;
  const plateauNote = prePlateau.virtualEpoch === curve[plateau.chosen]!.virtualEpoch ? plateau.reason : `${plateau.reason}; its checkpoint was removed by retention, took virtual epoch ${prePlateau.virtualEpoch}`;
  if (policy === 'scratch') {
    chosen = null;
    reason = 'policy scratch: training from scratch';
  } else if (policy === 'auto') {
    const scored = candidates.filter((c) => c.score !== null);
    chosen = scored.length ? scored.reduce((a, b) => (b.score! < a.score! ? b : a)) : candidates[0]!; // ties keep the earlier (pre-plateau first)
    reason = scored.length
      ? `policy auto: lowest loss on ${evalSet.rows} fresh eval rows among ${candidates.map((c) => `${c.name} (epoch ${c.virtualEpoch}) ${c.score!.toPrecision(4)}`).join(', ')}: ${chosen.name}; ${plateauNote}`
      : `policy auto: no fresh eval rows to score on; took pre-plateau (${plateauNote})`;
  } else {
    chosen = candidates.find((c) => c.name === policy)!;
    reason = policy === 'pre-plateau' ? plateauNote : `policy ${policy}: virtual epoch ${chosen.virtualEpoch}`;
  }
  log.info({ policy, base: chosen?.checkpointId ?? null, epoch: chosen?.virtualEpoch ?? null, reason }, 'retrain base chosen');
  return {
    policy,
    chosen,
    candidates,
    plateau: {
      start: plateau.plateauStart === null ? null : curve[plateau.plateauStart]!.virtualEpoch,
      chosenEpoch: curve[plateau.chosen]!.virtualEpoch,
      reason: plateau.reason,
      gainAhead: plateau.gainAhead,
      gainSoFar: plateau.gainSoFar,
      curve: curve.map((p, i) => ({ virtualEpoch: p.virtualEpoch, trainLoss: p.trainLoss, smoothed: plateau.smoothed[i]! })),
      ...config.plateau,
    },
    reason,
    evalRows: evalSet.rows,
  };
}
