// Several lineages in one configuration. `lineages: { <name>: {…} }` holds, per lineage,
// the keys in which it differs from the top level; the top level is the defaults every
// lineage inherits. Each lineage resolves to a whole ResolvedConfig (its `lineage` set to
// its name), so that every module keeps taking "the lineage's configuration" as before;
// the daemon's own keys (database, queue, http, log, daemon, servingDir, artifactsDir,
// artifactStore) are the top level's and cannot differ per lineage. A file without
// `lineages` is one lineage, named by `lineage`: today's files keep working unchanged.
import path from 'node:path';
import { closestName } from './closest-name.ts';
import { closestKey, configSchema, deepFreeze, flattenIssues, type ResolvedConfig } from './config.ts';
import { ConfigError } from './errors.ts';

/** The keys a lineage may set for itself. */
export const PER_LINEAGE_KEYS = ['dataDir', 'watcher', 'columns', 'model', 'training', 'retrain', 'plateau', 'eval', 'validation', 'drift'] as const;

const resolved = new WeakMap<ResolvedConfig, readonly ResolvedConfig[]>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base` key by key; arrays and scalars replace. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : value;
  return out;
}

function resolveLineage(config: ResolvedConfig, name: string): ResolvedConfig {
  const override = config.lineages[name]!;
  for (const key of Object.keys(override)) {
    if ((PER_LINEAGE_KEYS as readonly string[]).includes(key)) continue;
    const meant = closestName(key, new Set(PER_LINEAGE_KEYS));
    throw new ConfigError(
      `${config.source}: lineages.${name}.${key}: not a key a lineage sets for itself${meant ? ` (did you mean lineages.${name}.${meant}?)` : ''}; per lineage: ${PER_LINEAGE_KEYS.join(', ')} — the rest is the daemon's, set at the top level`,
    );
  }
  const { source, baseDir, lineages: _all, ...top } = structuredClone(config) as ResolvedConfig & Record<string, unknown>;
  const result = configSchema.safeParse({ ...deepMerge(top, override), lineage: name, lineages: {} });
  if (!result.success) {
    const lines = flattenIssues(result.error.issues).map(({ keyPath, message, unknown }) => {
      const meant = unknown ? closestKey(keyPath) : undefined;
      return `${source}: lineages.${name}.${keyPath}: ${message}${meant ? ` (did you mean lineages.${name}.${meant}?)` : ''}`;
    });
    throw new ConfigError(`invalid configuration\n  ${lines.join('\n  ')}`);
  }
  const dataDir = /^[a-z][a-z0-9+.-]*:\/\//i.test(result.data.dataDir) ? result.data.dataDir : path.resolve(baseDir, result.data.dataDir);
  return deepFreeze({ ...result.data, dataDir, source, baseDir });
}

/** Columns as a comparable text, for lineages that share a data folder. */
const columnsKey = (c: ResolvedConfig): string => JSON.stringify([c.columns.features, c.columns.label, c.columns.categorical, c.watcher.mode, c.watcher.marker]);

/**
 * Every lineage of the configuration, each a whole configuration, in the file's order;
 * the same objects at every call (compiled options are cached by identity). Refuses two
 * lineages that read one data folder with different columns: a partition is validated
 * once, against one set of columns.
 */
export function lineageConfigs(config: ResolvedConfig): readonly ResolvedConfig[] {
  let list = resolved.get(config);
  if (list) return list;
  const names = Object.keys(config.lineages);
  list = Object.freeze(names.length === 0 ? [config] : names.map((name) => resolveLineage(config, name)));
  const byFolder = new Map<string, ResolvedConfig>();
  for (const lineage of list) {
    const other = byFolder.get(lineage.dataDir);
    if (other && columnsKey(other) !== columnsKey(lineage)) {
      throw new ConfigError(
        `${config.source}: lineages ${other.lineage} and ${lineage.lineage} read the same data folder ${lineage.dataDir} with different columns (or completion rules); a folder's partitions are validated once: give each its own dataDir, or the same columns`,
      );
    }
    byFolder.set(lineage.dataDir, lineage);
  }
  resolved.set(config, list);
  return list;
}

/**
 * One lineage's configuration: the one named (an unknown name is refused, naming the
 * configured ones), or the only one; with several and no name, a clear error.
 */
export function lineageConfig(config: ResolvedConfig, name?: string): ResolvedConfig {
  const list = lineageConfigs(config);
  if (name !== undefined) {
    const found = list.find((c) => c.lineage === name);
    if (found) return found;
    const meant = closestName(name, new Set(list.map((c) => c.lineage)));
    throw new ConfigError(`unknown lineage ${name}${meant ? ` (did you mean ${meant}?)` : ''}; the configuration has ${list.map((c) => c.lineage).join(', ')}`);
  }
  if (list.length === 1) return list[0]!;
  throw new ConfigError(`the configuration has ${list.length} lineages (${list.map((c) => c.lineage).join(', ')}): name one with --lineage`);
}

/**
 * The lineages this daemon runs: all of them, or those `queue.lineages` names (an unknown
 * name is refused, naming the configured ones).
 */
export function daemonLineages(config: ResolvedConfig): readonly ResolvedConfig[] {
  if (config.queue.lineages.length === 0) return lineageConfigs(config);
  return config.queue.lineages.map((name) => {
    try {
      return lineageConfig(config, name);
    } catch (error) {
      throw new ConfigError(`queue.lineages: ${(error as Error).message}`, { cause: error });
    }
  });
}
