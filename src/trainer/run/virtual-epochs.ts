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

/** The stop point a run with the lineage's fixed steps amounts to on the data available now. */
export function effectiveStopPoint(stepsPerEpochFixed: number, plan: Omit<VirtualEpochPlan, 'stopPoint'>, examplesAvailable: number): number {
  return (stepsPerEpochFixed * plan.batchSize * plan.numCheckpoints) / examplesAvailable;
}
