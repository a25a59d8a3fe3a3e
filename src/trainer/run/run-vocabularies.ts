// The statistics and vocabularies a run reads its data through. A lineage's first run:
// the lineage's. A resumed run: its checkpoint's, exactly. A new run from a base
// checkpoint: the base's, with each categorical vocabulary grown by the values that became
// frequent in the run's fresh (not replayed) partitions, and the base's embedding tables
// and their optimizer moments grown to match (checkpoints/vocabulary-growth.ts). The same
// partitions give the same growth, so a run resumed before its first checkpoint grows the
// same way again.
import type { ResolvedConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { recordVocabularyGrowth, type Registry } from '../../registry/index.ts';
import type { LoadedCheckpoint } from '../checkpoints/checkpoint-io.ts';
import { growCheckpoint, growVocabularies } from '../checkpoints/vocabulary-growth.ts';
import { countCategoryValues } from '../stream/category-values.ts';
import { type FeatureStats } from '../stream/stream-spec.ts';
import { trainingSpec } from './training-spec.ts';
import type { StartPoint } from './run-start.ts';

export async function runVocabularies(db: Registry, config: ResolvedConfig, start: StartPoint, log: Logger): Promise<{ stats: FeatureStats; loaded: LoadedCheckpoint | undefined }> {
  const loaded = start.loaded;
  if (!loaded) return { stats: start.lineage.feature_stats as unknown as FeatureStats, loaded };
  const base = loaded.state.featureStats;
  const vocabularies = base.categorical ?? [];
  // Continuing its own checkpoint, or no vocabularies, or a user model (whose tables we do not know): as saved.
  if (start.continuing || vocabularies.length === 0 || config.model.module) return { stats: base, loaded };
  const fresh = start.partitions.filter((p) => !p.replay);
  const counts = await countCategoryValues(fresh, trainingSpec(config).columns, trainingSpec(config).split);
  const { vocabularies: grown, growth } = growVocabularies(vocabularies, counts, config.columns.vocabulary);
  await recordVocabularyGrowth(db, start.run.id, growth);
  if (growth.length === 0) return { stats: base, loaded };
  log.info({ run: start.run.id, growth: growth.map((g) => ({ column: g.column, from: g.from, to: g.to })) }, 'vocabularies grew');
  const after = growCheckpoint(loaded, vocabularies, grown);
  return { stats: after.state.featureStats, loaded: after };
}
