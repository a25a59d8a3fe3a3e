// A checkpoint's model for evaluation and export: the configured architecture with the
// checkpoint's weights, and the lineage's held-out rows of chosen partitions to score it on.
import type { ResolvedConfig } from '../../core/config.ts';
import { getLineage, type Checkpoint, type Registry } from '../../registry/index.ts';
import { initBackend, tf } from '../backend.ts';
import { restoreModelWeights } from './checkpoint-io.ts';
import { loadCheckpoint } from './checkpoint-store.ts';
import { loadEvalSet, type EvalSet } from '../stream/eval-set.ts';
import { readLabelHistory, type LabelHistory } from '../stream/label-history.ts';
import type { SideColumns } from '../stream/valid-rows.ts';
import { trainingLabels } from '../stream/feature-stats.ts';
import { type FeatureStats, type TrainingPartition } from '../stream/stream-spec.ts';
import { trainingSpec } from '../run/training-spec.ts';
import { evaluateModel, predict } from '../model/evaluate.ts';
import { buildModel } from '../model/trainable-model.ts';
import { inputLayout } from '../model/input-layout.ts';

/**
 * The model as it was at `checkpoint` (weights only: optimizer state is not needed to
 * predict), with the statistics and vocabularies it reads its inputs through.
 */
export async function checkpointModel(db: Registry, config: ResolvedConfig, checkpoint: Checkpoint): Promise<{ model: tf.LayersModel; stats: FeatureStats }> {
  await initBackend(config.training.backend);
  const loaded = await loadCheckpoint(db, config, checkpoint);
  const { model } = await buildModel(config, inputLayout(loaded.state.featureStats));
  restoreModelWeights(model, loaded.weights);
  tf.dispose([...loaded.weights, ...loaded.optimizerWeights.map((w) => w.tensor)]);
  return { model, stats: loaded.state.featureStats };
}

/** The model as it was at `checkpoint`. */
export async function modelFromCheckpoint(db: Registry, config: ResolvedConfig, checkpoint: Checkpoint): Promise<tf.LayersModel> {
  return (await checkpointModel(db, config, checkpoint)).model;
}

/** The held-out (eval split) rows of `partitions`, standardised with the lineage's statistics. */
export async function lineageEvalSet(db: Registry, config: ResolvedConfig, lineageId: string, partitions: readonly TrainingPartition[], side?: SideColumns): Promise<EvalSet> {
  const lineage = await getLineage(db, lineageId);
  return loadEvalSet(partitions, trainingSpec(config).columns, trainingSpec(config).split, lineage.feature_stats as unknown as FeatureStats, config.training.evalMaxRows, 'eval', side);
}

/** Loss and metrics of a checkpoint on an eval set. */
/** Scores checkpoints on one set of rows: what the base choice compares (selection/ knows no TensorFlow.js: the retrain job hands it this). */
export interface CheckpointScorer {
  /** Rows the scores are on (0: nothing to score on). */
  rows: number;
  /** The checkpoint's validation loss on those rows. */
  valLoss(checkpoint: Checkpoint): Promise<number>;
}

export function checkpointScorer(db: Registry, config: ResolvedConfig, evalSet: EvalSet): CheckpointScorer {
  return { rows: evalSet.rows, valLoss: async (checkpoint) => (await evaluateCheckpoint(db, config, checkpoint, evalSet)).valLoss };
}

export async function evaluateCheckpoint(db: Registry, config: ResolvedConfig, checkpoint: Checkpoint, evalSet: EvalSet): Promise<{ valLoss: number; metrics: Record<string, number> }> {
  const { model, stats } = await checkpointModel(db, config, checkpoint);
  try {
    return evaluateModel(model, evalSet, config, stats.categorical);
  } finally {
    model.dispose();
  }
}

/**
 * The gate rows of a forward holdout: every row (both splits) of `partitions`, which
 * neither the candidate nor the champion trained on, standardised with the lineage's
 * statistics; beyond `maxRows` (the gate's memory bound, training.evalMaxRows; the
 * backtest's forward scoring passes Infinity) a uniform sample of them in their order, so
 * that the newest partition is scored too (`sampledFrom` says how many there were).
 */
export async function lineageGateSet(db: Registry, config: ResolvedConfig, lineageId: string, partitions: readonly TrainingPartition[], maxRows = config.training.evalMaxRows, side?: SideColumns): Promise<EvalSet> {
  const lineage = await getLineage(db, lineageId);
  return loadEvalSet(partitions, trainingSpec(config).columns, trainingSpec(config).split, lineage.feature_stats as unknown as FeatureStats, maxRows, 'all', side);
}

/** The labels (every valid row) of earlier partitions with each row's partition and side columns' first (the entity): the gate's per-row baselines' history. */
export async function labelHistory(config: ResolvedConfig, partitions: readonly TrainingPartition[], side?: SideColumns): Promise<LabelHistory> {
  return readLabelHistory(partitions, trainingSpec(config).columns, trainingSpec(config).split, side);
}

/** A checkpoint's predictions for every row of an eval set. */
export async function predictCheckpoint(db: Registry, config: ResolvedConfig, checkpoint: Checkpoint, evalSet: EvalSet): Promise<Float32Array> {
  const { model, stats } = await checkpointModel(db, config, checkpoint);
  try {
    return predict(model, evalSet, stats.categorical);
  } finally {
    model.dispose();
  }
}

/** The labels of the training rows of a run's training window (its training and replayed partitions). */
export async function trainingWindowLabels(config: ResolvedConfig, partitions: readonly TrainingPartition[]): Promise<Float64Array> {
  return trainingLabels(partitions, trainingSpec(config).columns, trainingSpec(config).split);
}
