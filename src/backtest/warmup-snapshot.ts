// A backtest's state after its first model (step 0), kept so that another backtest that
// differs only after it continues from there instead of training the same first model
// again: `freshet backtest --save-warmup DIR` / `--from-warmup DIR`, which `freshet tune`
// uses for policies that change only `retrain.*` keys. What the state is: the throwaway
// registry (registry-snapshot.ts), the folders the loop wrote (the arrived partitions,
// the checkpoints, the exports), step 0's row of the report and the run it decided on.
//
// A continued backtest gives the report the full one gives, but for wall times
// (test/backtest.test.ts). What makes that so: nothing of step 0 reads a `retrain.*` key
// (the first model has no base, no replay, and trains the lineage's own virtual epochs),
// so everything else in the configuration must be the same, which the fingerprint checks;
// ids come back as they were, so the seeds derived from them do too.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { ResolvedConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { dumpRegistry, loadRegistry, type Registry, type RegistrySnapshot } from '../registry/index.ts';
import { definitionDifferences, STREAM_CACHE_DIR } from '../trainer/index.ts';
import type { BacktestStep } from './backtest.ts';

interface WarmupState {
  format: 1;
  /** What step 0 depended on (warmupFingerprint): a backtest continues only from its own. */
  fingerprint: unknown;
  /** The folders the snapshot's registry rows name, as they were when it was taken. */
  folders: Record<FolderName, string>;
  step: BacktestStep;
  /** The run step 0 decided on (null: no decision). */
  runId: string | null;
}

type FolderName = 'data' | 'artifacts' | 'serving';

const folderOf = (config: ResolvedConfig): Record<FolderName, string> => ({ data: config.dataDir, artifacts: config.artifactsDir, serving: config.servingDir });

/**
 * What the first model depends on: the history (its real path: a link to it is the same
 * history), the warm-up, and the configuration but for `retrain.*` (read only by retrains)
 * and where things are (the folders, the server, the log, the configuration file's own
 * path, the S3 cache), which differ from one backtest's folder to another's.
 */
export function warmupFingerprint(config: ResolvedConfig, sourceDir: string, warmup: number): unknown {
  const { retrain: _retrain, dataDir: _data, artifactsDir: _artifacts, servingDir: _serving, database: _database, log: _log, baseDir: _base, source: _source, ...rest } = config;
  const { cacheDir: _cache, ...s3 } = rest.s3;
  return JSON.parse(JSON.stringify({ ...rest, s3, history: fs.realpathSync(sourceDir), warmup }));
}

/** A folder's files into another: hard links for the partitions' data files (never rewritten: a new version is a new file), copies otherwise. */
function copyFolder(from: string, to: string, { link, skip }: { link: boolean; skip?: string }): void {
  if (!fs.existsSync(from)) return;
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === skip) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyFolder(source, target, { link });
    else if (entry.isFile() && !(link && linked(source, target))) copyWithTimes(source, target);
  }
}

/** A hard link, or false where there cannot be one (another filesystem: EXDEV). */
function linked(source: string, target: string): boolean {
  try {
    fs.linkSync(source, target);
    return true;
  } catch {
    return false;
  }
}

/** A copy with the source's times, which the watcher compares. */
function copyWithTimes(source: string, target: string): void {
  fs.copyFileSync(source, target);
  const { atime, mtime } = fs.statSync(source);
  fs.utimesSync(target, atime, mtime);
}

/**
 * Keeps the state after step 0 in `dir` (which must not exist): written beside it and
 * renamed into place, so a killed backtest leaves no half snapshot; when another backtest
 * saved the same warm-up first, its snapshot is kept and this one dropped.
 */
export async function saveWarmup(dir: string, { db, config, fingerprint, step, runId }: { db: Registry; config: ResolvedConfig; fingerprint: unknown; step: BacktestStep; runId: string | null }): Promise<'saved' | 'already there'> {
  if (config.artifactStore !== 'fs') throw new ConfigError(`--save-warmup keeps the checkpoints of artifactStore fs only (this configuration: ${config.artifactStore})`);
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const registry = await dumpRegistry(db);
  fs.writeFileSync(path.join(partial, 'registry.json'), JSON.stringify(registry));
  const folders = folderOf(config);
  copyFolder(folders.data, path.join(partial, 'data'), { link: true });
  copyFolder(folders.artifacts, path.join(partial, 'artifacts'), { link: false, skip: STREAM_CACHE_DIR });
  copyFolder(folders.serving, path.join(partial, 'serving'), { link: false });
  const state: WarmupState = { format: 1, fingerprint, folders, step, runId };
  fs.writeFileSync(path.join(partial, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  try {
    fs.renameSync(partial, dir);
    return 'saved';
  } catch (error) {
    if (!fs.existsSync(path.join(dir, 'state.json'))) throw error;
    fs.rmSync(partial, { recursive: true, force: true });
    return 'already there';
  }
}

/**
 * Puts a saved warm-up into this backtest's (migrated, empty) registry and folders; returns
 * step 0's report row and the run it decided on. Refuses a warm-up made with anything
 * step 0 depends on set otherwise, naming the keys.
 */
export async function restoreWarmup(dir: string, { db, config, fingerprint }: { db: Registry; config: ResolvedConfig; fingerprint: unknown }): Promise<{ step: BacktestStep; runId: string | null }> {
  const stateFile = path.join(dir, 'state.json');
  if (!fs.existsSync(stateFile)) throw new ConfigError(`--from-warmup ${dir}: no warm-up there (state.json is missing; --save-warmup writes one)`);
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as WarmupState;
  if (state.format !== 1) throw new ConfigError(`--from-warmup ${dir}: format ${String(state.format)} is not one this freshet reads`);
  const differences = definitionDifferences(state.fingerprint, fingerprint);
  if (differences.length > 0) {
    throw new ConfigError(`--from-warmup ${dir}: its first model was made with another history, warm-up or configuration; only retrain.* keys may differ:\n  ${differences.join('\n  ')}`);
  }
  const registry = JSON.parse(fs.readFileSync(path.join(dir, 'registry.json'), 'utf8')) as RegistrySnapshot;
  const folders = folderOf(config);
  await loadRegistry(db, registry, (Object.keys(folders) as FolderName[]).map((name) => ({ from: state.folders[name], to: folders[name] })));
  // The first run recorded the configuration it ran with; its retrain keys are this backtest's, as a full replay would have recorded them.
  // Named statement: the warm-up's runs take this configuration's retrain section.
  await sql`UPDATE runs SET config = jsonb_set(config, '{retrain}', ${JSON.stringify(config.retrain)}::jsonb)`.execute(db);
  copyFolder(path.join(dir, 'data'), folders.data, { link: true });
  copyFolder(path.join(dir, 'artifacts'), folders.artifacts, { link: false });
  copyFolder(path.join(dir, 'serving'), folders.serving, { link: false });
  return { step: state.step, runId: state.runId };
}
