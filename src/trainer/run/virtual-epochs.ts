// Virtual epochs (the Checkpoints pattern): the number of steps between checkpoints is
// fixed when a lineage starts and does not grow with the data, so retraining cost stays
// flat as partitions accumulate. What changes as data grows is the stop point: how many
// passes over the data the same number of steps amounts to.

export interface VirtualEpochPlan {
  batchSize: number;
  numCheckpoints: number;
  /** Passes over the training data that a first run makes. */
  stopPoint: number;
}

/**
 * steps_per_epoch = floor(trainExamples × stopPoint / (batchSize × numCheckpoints)), at least 1.
 * Example from the book: 15 M examples, stop point 14.3, batch 100, 15 checkpoints → 143,000.
 */
export function stepsPerEpoch(trainExamples: number, plan: VirtualEpochPlan): number {
  if (!(trainExamples > 0)) throw new Error(`cannot size virtual epochs: ${trainExamples} training examples`);
  return Math.max(1, Math.floor((trainExamples * plan.stopPoint) / (plan.batchSize * plan.numCheckpoints)));
}

/**
 * A batch holds at most 1/16 of a pass over the training data (a power of two, at least
 * 8), so that 600 rows are not two batches a pass: each step sees other rows, and the
 * floor below is reached by steps, not by repeating the same two batches.
 */
export const MIN_BATCHES_PER_PASS = 16;

export interface TrainingBudget {
  /** The lineage's batch size: the configured one, clamped to the data. */
  batchSize: number;
  stepsPerEpoch: number;
  /** Why, in words (logged when the lineage starts). */
  reason: string;
}

/**
 * The lineage's fixed schedule, chosen once when it starts: the batch size clamped to the
 * data, and steps_per_epoch = the stop point's passes over the data, but never fewer than
 * `minSteps` over the first run's `numCheckpoints` virtual epochs (early stopping decides
 * when to stop inside that budget). Before the floor, 12,000 rows gave a first run of 126
 * steps, far from converged (README › Training budget).
 */
export function trainingBudget(trainExamples: number, plan: VirtualEpochPlan & { minSteps: number }): TrainingBudget {
  if (!(trainExamples > 0)) throw new Error(`cannot size virtual epochs: ${trainExamples} training examples`);
  const largest = Math.max(8, 2 ** Math.floor(Math.log2(Math.max(1, trainExamples / MIN_BATCHES_PER_PASS))));
  const batchSize = Math.min(plan.batchSize, largest);
  const byPasses = stepsPerEpoch(trainExamples, { ...plan, batchSize });
  const byFloor = Math.ceil(plan.minSteps / plan.numCheckpoints);
  const steps = Math.max(byPasses, byFloor);
  const parts = [
    batchSize < plan.batchSize ? `batch ${batchSize} (training.batchSize ${plan.batchSize} clamped to 1/${MIN_BATCHES_PER_PASS} of the ${trainExamples} training rows)` : `batch ${batchSize}`,
    byFloor > byPasses
      ? `${steps} steps per virtual epoch: the floor training.minSteps ${plan.minSteps} over ${plan.numCheckpoints} virtual epochs (${plan.stopPoint} passes would be ${byPasses * plan.numCheckpoints} steps)`
      : `${steps} steps per virtual epoch: ${plan.stopPoint} passes over ${plan.numCheckpoints} virtual epochs`,
  ];
  return { batchSize, stepsPerEpoch: steps, reason: parts.join('; ') };
}

/**
 * The early checkpoint schedule: steps firstStep·2^k inside the first `untilEpoch` virtual
 * epochs, where the training loss falls fastest and a per-epoch checkpoint would come too
 * late; virtual-epoch ends are left out (they are checkpoints anyway). firstStep 0: none.
 */
export function earlyCheckpointSteps(stepsPerEpochFixed: number, schedule: { firstStep: number; untilEpoch: number }): number[] {
  const steps: number[] = [];
  if (schedule.firstStep <= 0) return steps;
  const end = stepsPerEpochFixed * schedule.untilEpoch;
  for (let step = schedule.firstStep; step < end; step *= 2) if (step % stepsPerEpochFixed !== 0) steps.push(step);
  return steps;
}

/** The stop point a run with the lineage's fixed steps amounts to on the data available now. */
export function effectiveStopPoint(stepsPerEpochFixed: number, plan: Omit<VirtualEpochPlan, 'stopPoint'>, examplesAvailable: number): number {
  return (stepsPerEpochFixed * plan.batchSize * plan.numCheckpoints) / examplesAvailable;
}
