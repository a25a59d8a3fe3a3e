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
