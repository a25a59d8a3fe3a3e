// What fixes a lineage, and what to tell a user whose configuration no longer matches the
// lineage it names: each differing key, old → new, and the ways forward. Checked when the
// daemon starts (so the mistake shows before any job runs) and again by every run.
import crypto from 'node:crypto';
import type { ResolvedConfig } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Lineage } from '../../registry/index.ts';

/**
 * What fixes a lineage: changing any of it needs a new lineage name. The categorical keys
 * enter only when categorical columns are configured, and the crossed ones only when set,
 * so a lineage started before they existed keeps its definition (and its hash).
 */
export function lineageDefinition(config: ResolvedConfig) {
  const { categorical, vocabulary, crosses, ...numeric } = config.columns;
  return {
    columns: categorical.length > 0 ? { ...numeric, categorical, vocabulary, ...(crosses.length > 0 ? { crosses } : {}) } : numeric,
    model: config.model,
    batchSize: config.training.batchSize,
    numCheckpoints: config.training.numCheckpoints,
    stopPoint: config.training.stopPoint,
    evalFraction: config.training.evalFraction,
    seed: config.training.seed,
  };
}

export function definitionSha256(definition: ReturnType<typeof lineageDefinition>): string {
  return crypto.createHash('sha256').update(JSON.stringify(definition)).digest('hex');
}

/** The definition's top-level names that live under `training.` in the configuration file. */
const TRAINING_KEYS = new Set(['batchSize', 'numCheckpoints', 'stopPoint', 'evalFraction', 'seed']);

/** The configuration key path of a definition path (batchSize → training.batchSize). */
function configKey(keyPath: string[]): string {
  return (TRAINING_KEYS.has(keyPath[0]!) ? ['training', ...keyPath] : keyPath).join('.');
}

const shown = (value: unknown): string => (value === undefined ? '(unset)' : JSON.stringify(value));

/** Every leaf where `stored` and `current` differ, as "key: old → new", in key order. */
export function definitionDifferences(stored: unknown, current: unknown, keyPath: string[] = []): string[] {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isMap(stored) && isMap(current)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(current)])].sort();
    return keys.flatMap((key) => definitionDifferences(stored[key], current[key], [...keyPath, key]));
  }
  if (JSON.stringify(stored) === JSON.stringify(current)) return [];
  // A key missing on one side of a whole section (categorical columns added, say) reads as (unset).
  return [`${configKey(keyPath)}: ${shown(stored)} → ${shown(current)}`];
}

/** Throws a ConfigError naming each key that differs from what the lineage was started with. */
export function assertLineageDefinition(lineage: Lineage, config: ResolvedConfig): void {
  const definition = lineageDefinition(config);
  if (lineage.config_sha256 === definitionSha256(definition)) return;
  const differences = definitionDifferences(lineage.config, definition);
  const lines = differences.length > 0 ? differences : ['(the stored definition and this one differ in a way no single key shows)'];
  throw new ConfigError(
    `lineage "${lineage.name}" was started with another definition; these keys differ (started with → now):\n  ${lines.join('\n  ')}\n` +
      'A lineage keeps its columns, model, batch size and checkpoint schedule for life (its steps_per_epoch, statistics and checkpoints depend on them). Either\n' +
      `  - put the keys back as they were, or\n` +
      `  - set \`lineage\` to a new name: a new lineage starts from the data present then; "${lineage.name}", its versions and decisions stay in the registry (\`freshet models --lineage ${lineage.name}\`).`,
  );
}
