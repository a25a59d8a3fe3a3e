// The pre-plateau checkpoint of a chain, by the configured rule (plateau.method): the knee
// of the step-level training loss (the default) or the per-virtual-epoch plateau rule.
// One function, so the base choice, retention (which must keep that checkpoint) and the
// plateau report (what `freshet plateau` and the status page draw) agree.
import type { ResolvedConfig } from '../core/config.ts';
import { chainCheckpoints, chainCurve, chainLossPoints, type ChainCheckpoint, type Registry } from '../registry/index.ts';
import { findKnee } from './knee.ts';
import { detectPlateau } from './plateau.ts';

/** At most this many points of the smoothed step-level curve are stored with a run (base_selection.plateau.curve). */
const STORED_CURVE_POINTS = 200;

export interface KneeRecord {
  method: 'knee';
  kneeStep: number | null;
  distance: number | null;
  /** Smoothed training loss at the chain's start and end, and at the chosen checkpoint's step. */
  startLevel: number;
  endLevel: number;
  chosenLevel: number | null;
  drop: number;
  chosenStep: number | null;
  reason: string;
  /** The step-level curve, thinned to at most STORED_CURVE_POINTS: step, raw loss, smoothed. */
  curve: Array<{ step: number; loss: number; smoothed: number }>;
  smoothWindow: number;
  minDrop: number;
  minDistance: number;
}

export interface EpochsRecord {
  method: 'epochs';
  start: number | null;
  chosenEpoch: number;
  chosenStep: number | null;
  reason: string;
  gainAhead: number | null;
  gainSoFar: number | null;
  curve: Array<{ virtualEpoch: number; trainLoss: number; smoothed: number }>;
  alpha: number;
  window: number;
  minGain: number;
  offset: number;
}

export interface PrePlateauChoice {
  /** The kept checkpoint the rule chooses; undefined when the chain has none. */
  checkpoint: ChainCheckpoint | undefined;
  /** The rule found its point (a knee, a plateau start); false: too short, flat, or not yet. */
  found: boolean;
  reason: string;
  record: KneeRecord | EpochsRecord;
}

/** Evenly thinned, the first and last kept: a curve small enough to store on every run. */
function thin<T>(points: readonly T[], most: number): T[] {
  if (points.length <= most) return [...points];
  return Array.from({ length: most }, (_, i) => points[Math.round((i * (points.length - 1)) / (most - 1))]!);
}

/** The newest kept checkpoint at or before `step`, else the oldest kept (the point lies before every checkpoint). */
function keptAtOrBefore(checkpoints: readonly ChainCheckpoint[], step: number): ChainCheckpoint | undefined {
  return checkpoints.filter((c) => c.globalStep <= step).at(-1) ?? checkpoints[0];
}

export async function prePlateauChoice(db: Registry, config: ResolvedConfig, headRunId: string): Promise<PrePlateauChoice> {
  const checkpoints = await chainCheckpoints(db, headRunId);
  return config.plateau.method === 'knee' ? kneeChoice(db, config, headRunId, checkpoints) : epochsChoice(db, config, headRunId, checkpoints);
}

async function kneeChoice(db: Registry, config: ResolvedConfig, headRunId: string, checkpoints: ChainCheckpoint[]): Promise<PrePlateauChoice> {
  const points = await chainLossPoints(db, headRunId);
  const knee = findKnee(points, config.plateau);
  const latest = checkpoints.at(-1);
  const checkpoint = knee.kneeStep === null ? latest : keptAtOrBefore(checkpoints, knee.kneeStep);
  // The smoothed level at the chosen checkpoint: the value at the newest loss point at or before its step.
  const levelAt = (step: number): number | null => {
    let at: number | null = null;
    for (const [i, p] of points.entries()) if (p.step <= step) at = knee.smoothed[i]!;
    return at;
  };
  const chosenLevel = checkpoint ? levelAt(checkpoint.globalStep) : null;
  const where = checkpoint ? `step ${checkpoint.globalStep} (virtual epoch ${checkpoint.virtualEpoch})` : 'no checkpoint';
  const reason =
    knee.kneeStep === null
      ? `${knee.reason}: the pre-plateau checkpoint is the latest, ${where}`
      : `${knee.reason}; the pre-plateau checkpoint is the newest kept at or before it, ${where}${chosenLevel === null ? '' : `, smoothed loss ${chosenLevel.toPrecision(4)} against ${knee.endLevel.toPrecision(4)} at the end`}${checkpoint && checkpoint.globalStep > knee.kneeStep ? ' (none is kept before the knee: the oldest kept one)' : ''}`;
  return {
    checkpoint,
    found: knee.kneeStep !== null,
    reason,
    record: {
      method: 'knee',
      kneeStep: knee.kneeStep,
      distance: knee.distance,
      startLevel: knee.startLevel,
      endLevel: knee.endLevel,
      chosenLevel,
      drop: knee.drop,
      chosenStep: checkpoint?.globalStep ?? null,
      reason,
      curve: thin(points.map((p, i) => ({ step: p.step, loss: p.loss, smoothed: knee.smoothed[i]! })), STORED_CURVE_POINTS),
      smoothWindow: config.plateau.smoothWindow,
      minDrop: config.plateau.minDrop,
      minDistance: config.plateau.minDistance,
    },
  };
}

async function epochsChoice(db: Registry, config: ResolvedConfig, headRunId: string, checkpoints: ChainCheckpoint[]): Promise<PrePlateauChoice> {
  const curve = await chainCurve(db, headRunId);
  if (curve.length === 0) {
    const reason = 'no completed virtual epoch yet: the pre-plateau checkpoint is the latest';
    return { checkpoint: checkpoints.at(-1), found: false, reason, record: { method: 'epochs', start: null, chosenEpoch: 0, chosenStep: checkpoints.at(-1)?.globalStep ?? null, reason, gainAhead: null, gainSoFar: null, curve: [], ...epochOptions(config) } };
  }
  const plateau = detectPlateau(curve.map((p) => p.trainLoss), config.plateau, curve.map((p) => p.virtualEpoch));
  const wanted = curve[plateau.chosen]!;
  // Only epoch-end checkpoints are candidates for this rule (it reads the per-epoch curve).
  const epochEnds = checkpoints.filter((c) => curve.some((p) => p.globalStep === c.globalStep && p.runId === c.runId));
  const checkpoint = keptAtOrBefore(epochEnds, wanted.globalStep);
  const reason = checkpoint && checkpoint.globalStep !== wanted.globalStep ? `${plateau.reason}; its checkpoint was removed by retention, took virtual epoch ${checkpoint.virtualEpoch}` : plateau.reason;
  return {
    checkpoint,
    found: plateau.plateauStart !== null,
    reason,
    record: {
      method: 'epochs',
      start: plateau.plateauStart === null ? null : curve[plateau.plateauStart]!.virtualEpoch,
      chosenEpoch: wanted.virtualEpoch,
      chosenStep: checkpoint?.globalStep ?? null,
      reason,
      gainAhead: plateau.gainAhead,
      gainSoFar: plateau.gainSoFar,
      curve: curve.map((p, i) => ({ virtualEpoch: p.virtualEpoch, trainLoss: p.trainLoss, smoothed: plateau.smoothed[i]! })),
      ...epochOptions(config),
    },
  };
}

function epochOptions(config: ResolvedConfig) {
  const { alpha, window, minGain, offset } = config.plateau;
  return { alpha, window, minGain, offset };
}
