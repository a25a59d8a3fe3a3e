// A lineage starts once: its feature statistics and steps_per_epoch are computed from the
// data present then and stored, and never recomputed as data grows (virtual epochs).
import type { ResolvedConfig } from '../../core/config.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { createLineage, findLineageByName, listPartitions, type Lineage, type Registry } from '../../registry/index.ts';
import { computeFeatureStats } from '../stream/feature-stats.ts';
import { type FeatureStats, type TrainingPartition } from '../stream/stream-spec.ts';
import { trainingSpec } from './training-spec.ts';
import { doorFor, isDataFile } from '../../data/index.ts';
import { assertLineageDefinition, definitionSha256, lineageDefinition } from './lineage-definition.ts';
import { earlyCheckpointSteps, trainingBudget } from './virtual-epochs.ts';

/**
 * The registered partitions in path order, oldest first for Hive-style keys (dt=… sorts by
 * date), as the trainer reads them. Path order, not registration order: a startup scan
 * registers several partitions at once in whatever order their checks finish, and the same
 * data must give the same batches, the same replay window and the same model.
 */
/** The registered partitions of a lineage's source (its data location). */
export async function registeredPartitions(db: Registry, { dataDir }: { dataDir: string }): Promise<TrainingPartition[]> {
  const rows = (await listPartitions(db, { source: dataDir, status: 'registered', limit: 1_000_000 })).sort((a, b) => comparePaths(a.path, b.path));
  return rows.map((row) => ({
    id: row.id,
    path: row.path,
    dir: doorFor(dataDir).join(dataDir, row.path), // a location through the door: a local path, or another scheme's
    files: row.files.map((f) => f.name).filter(isDataFile).sort(),
    rows: row.row_count === null ? null : Number(row.row_count),
  }));
}

/** Code-unit order of partition paths: the same on every machine, whatever its locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Finds the configured lineage, or starts it from the partitions present now. */
export async function ensureLineage(db: Registry, config: ResolvedConfig, partitions: readonly TrainingPartition[], log: Logger): Promise<Lineage> {
  const definition = lineageDefinition(config);
  const definitionSha = definitionSha256(definition);
  const existing = await findLineageByName(db, config.lineage);
  if (existing) {
    assertLineageDefinition(existing, config);
    return existing;
  }
  if (partitions.length === 0) throw new NotFoundError('no registered partitions to train on');
  const stats: FeatureStats = await computeFeatureStats(partitions, trainingSpec(config).columns, trainingSpec(config).split, config.columns.vocabulary);
  if (stats.count === 0) throw new Error('the registered partitions hold no valid training rows');
  const budget = trainingBudget(stats.count, config.training);
  const steps = budget.stepsPerEpoch;
  const vocabularies = Object.fromEntries((stats.categorical ?? []).map((v) => [v.column, v.tokens.length]));
  log.info({ lineage: config.lineage, trainExamples: stats.count, stepsPerEpoch: steps, batchSize: budget.batchSize, budget: budget.reason, ...(stats.categorical ? { vocabularies } : {}) }, 'starting lineage');
  try {
    return await createLineage(db, {
      name: config.lineage,
      task: config.model.task,
      config: definition,
      config_sha256: definitionSha,
      batch_size: budget.batchSize,
      num_checkpoints: config.training.numCheckpoints,
      stop_point: config.training.stopPoint,
      train_examples: stats.count,
      steps_per_epoch: steps,
      early_checkpoint_steps: earlyCheckpointSteps(steps, config.training.earlyCheckpoints),
      feature_stats: stats as unknown as Record<string, unknown>,
    });
  } catch (error) {
    // Another process started it first: use theirs.
    if ((error as { code?: string }).code === '23505') return (await findLineageByName(db, config.lineage))!;
    throw error;
  }
}
