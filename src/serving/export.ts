// The champion, exported for serving: servingDir/<lineage>/<version>/ holds the tfjs LayersModel
// (model.json + weights.bin, what tf.loadLayersModel reads) that takes raw numeric features
// (the standardisation is folded into its first layer), the vocabularies of categorical
// columns (vocabularies.json, with the documented id lookup), the statistics it was
// trained with (normalization.json, for reference) and a metadata file; servingDir/<lineage>/current
// is a symlink switched atomically (a new link renamed over the old) to the champion's folder.
// An export is bound to what wrote it: metadata.json names the lineage, the version (number
// and registry id) and the checkpoint (id and manifest sha256), and a folder is reused only
// when all of them match — a registry recreated under the same servingDir (a new database,
// a renamed lineage) can never serve another registry's or lineage's model.
// Registry first, files second: a crash in between is repaired by reconcileServing,
// which the daemon runs at start and after every decision.
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { findChampion, getCheckpoint, setServingUri, getLineage, type ModelVersion, type Registry } from '../registry/index.ts';
import { checkpointModel, constantModel, initBackend, inputLayout, layersModelFiles, readDirVerified, writeDirAtomically, type FeatureStats } from '../trainer/index.ts';
import { foldStandardisation } from './fold-standardisation.ts';
import { CROSS_SEPARATOR, getObject, putObject } from '../data/index.ts';

async function constantExport(config: ResolvedConfig, task: string, stats: FeatureStats, value: number) {
  await initBackend(config.training.backend);
  return constantModel(task === 'binary' ? 'binary' : 'regression', inputLayout(stats), value);
}

export const CURRENT = 'current';

/** How to feed the exported model, for metadata.json (README › Serving says the same). */
function exportInputDoc(raw: boolean, categorical: boolean, crossed: boolean): string {
  const numeric = raw
    ? 'the raw values of `features`, in that order (the standardisation is folded into the first layer)'
    : 'each of `features` standardised as (x - mean) / std with normalization.json, in that order';
  if (!categorical) return `one input [rows, features]: ${numeric}`;
  return (
    `inputs in model order: \`numeric\` [rows, features]: ${numeric}; then one \`category_<k>\` [rows, 1] input per \`categorical\` column ` +
    'holding the value\'s id from vocabularies.json[k]: oovBuckets + its index in tokens, or, for a value not there, FNV-1a-32 of its UTF-8 bytes mod oovBuckets' +
    (crossed ? `; then one more \`category_<k>\` input per \`crosses\` entry (k counting on after the categorical columns), whose value is the values of its columns joined by ${CROSS_SEPARATOR}, looked up the same way` : '')
  );
}

/** servingDir/<lineage>: one lineage's exports and its `current` link. */
function lineageServingDir(config: ResolvedConfig, lineageName: string = config.lineage): string {
  return path.join(config.servingDir, lineageName);
}

/** What binds an export folder to the registry row it was written for (in metadata.json). */
interface ExportIdentity {
  lineage: string;
  version: number;
  versionId: string;
  checkpoint: string;
  checkpointSha256: string;
}

function exportIdentity(lineageName: string, version: ModelVersion, checkpointSha256: string): ExportIdentity {
  return { lineage: lineageName, version: version.version, versionId: version.id, checkpoint: version.checkpoint_id, checkpointSha256 };
}

/** The keys of `identity` on which an export's metadata.json differs from it (empty: the same export). */
function identityMismatch(metadata: Partial<ExportIdentity>, identity: ExportIdentity): string[] {
  return (Object.keys(identity) as Array<keyof ExportIdentity>).filter((key) => metadata[key] !== identity[key]);
}

/** Reads the files of an export folder and checks its identity; throws when missing, damaged or another's. */
function verifiedExport(dir: string, identity: ExportIdentity): void {
  const files = readDirVerified(dir);
  const metadata = JSON.parse(files['metadata.json']?.toString('utf8') ?? '{}') as Partial<ExportIdentity>;
  const differs = identityMismatch(metadata, identity);
  if (differs.length > 0) throw new Error(`${dir} was exported for another model (${differs.join(', ')} differ)`);
}

/** Writes servingDir/<lineage>/<version>/ unless a verified copy of this very version is there; returns its path. */
export async function exportVersion(db: Registry, config: ResolvedConfig, version: ModelVersion): Promise<string> {
  const [checkpoint, lineage] = await Promise.all([getCheckpoint(db, version.checkpoint_id), getLineage(db, version.lineage_id)]);
  const identity = exportIdentity(lineage.name, version, checkpoint.manifest_sha256);
  const dir = path.join(lineageServingDir(config, lineage.name), String(version.version));
  try {
    verifiedExport(dir, identity);
    return dir;
  } catch {
    // missing, damaged or written for another registry's version: (re)write it
  }
  // A version serving the naive constant exports a one-unit model that predicts it (a zero kernel: nothing to fold).
  const lineageStats = lineage.feature_stats as unknown as FeatureStats;
  const { model, stats } =
    version.constant !== null
      ? { model: await constantExport(config, lineage.task, lineageStats, version.constant), stats: lineageStats }
      : await checkpointModel(db, config, checkpoint);
  try {
    // The built-in MLP takes raw features; a user model (whose first layer we do not know) keeps standardised ones.
    const raw = version.constant !== null || foldStandardisation(model, stats);
    const files = layersModelFiles(model);
    const metadata = {
      ...identity,
      task: lineage.task,
      features: config.columns.features,
      ...(config.columns.categorical.length > 0 ? { categorical: config.columns.categorical } : {}),
      ...(config.columns.crosses.length > 0 ? { crosses: config.columns.crosses, crossSeparator: CROSS_SEPARATOR } : {}),
      standardised: !raw,
      label: config.columns.label,
      metric: { name: version.metric_name, value: version.eval_metric },
      run: version.run_id,
      ...(version.constant !== null ? { serves: 'naive constant', constant: { name: version.constant_name, value: version.constant } } : { serves: 'model' }),
      dataWatermark: version.data_watermark,
      createdAt: version.created_at.toISOString(),
      input: exportInputDoc(raw, config.columns.categorical.length > 0, config.columns.crosses.length > 0),
    };
    const vocabularies: Record<string, string> = stats.categorical ? { 'vocabularies.json': JSON.stringify(stats.categorical, null, 2) } : {};
    await writeDirAtomically(dir, { ...files, 'normalization.json': JSON.stringify(stats, null, 2), ...vocabularies, 'metadata.json': JSON.stringify(metadata, null, 2) }, { replace: true });
  } finally {
    model.dispose();
  }
  await setServingUri(db, version.id, dir);
  return dir;
}

/**
 * Points servingDir/<lineage>/current at a version's folder, atomically. Only
 * reconcileServing calls it, with the lineage's champion, after exportVersion verified
 * the folder: `current` never points at another lineage's (or registry's) model.
 */
function switchCurrent(config: ResolvedConfig, version: ModelVersion): void {
  const dir = lineageServingDir(config);
  const link = path.join(dir, CURRENT);
  const temp = path.join(dir, `.${CURRENT}-${process.pid}-${Date.now()}`);
  fs.symlinkSync(String(version.version), temp); // relative: the folder can move as a whole
  fs.renameSync(temp, link);
}

/** Which version servingDir/<lineage>/current points at, if any. */
export function currentServingVersion(config: ResolvedConfig): number | undefined {
  try {
    return Number(fs.readlinkSync(path.join(lineageServingDir(config), CURRENT)));
  } catch {
    return undefined;
  }
}

/** Makes servingDir match the registry: the champion exported, current pointing at it. */
export async function reconcileServing(db: Registry, config: ResolvedConfig, log: Logger): Promise<ModelVersion | undefined> {
  const champion = (await findChampion(db, config.lineage))?.version;
  if (!champion) return undefined;
  const dir = await exportVersion(db, config, champion);
  if (currentServingVersion(config) !== champion.version) {
    switchCurrent(config, champion);
    log.info({ version: champion.version, dir }, 'serving/<lineage>/current now points at the champion');
  }
  if (config.artifactStore === 's3' && config.artifactsUri) await publishToBucket(config, champion, dir, log);
  return champion;
}

/**
 * With the s3 artifact store, the champion's export is also published for model servers
 * on other machines: its files under artifactsUri/serving/<lineage>/<version>/, then
 * serving/<lineage>/current, a small object holding the version number (S3 has no
 * symlink), written last. A version already published (its metadata.json there) is not
 * uploaded again.
 */
async function publishToBucket(config: ResolvedConfig, champion: ModelVersion, dir: string, log: Logger): Promise<void> {
  const base = `${config.artifactsUri!.replace(/\/+$/, '')}/serving/${config.lineage}`;
  const published = await getObject(`${base}/${champion.version}/metadata.json`).then((text) => text.equals(fs.readFileSync(path.join(dir, 'metadata.json'))), () => false);
  if (!published) {
    const names = fs.readdirSync(dir).filter((n) => n !== 'metadata.json');
    for (const name of names) await putObject(`${base}/${champion.version}/${name}`, fs.readFileSync(path.join(dir, name)));
    await putObject(`${base}/${champion.version}/metadata.json`, fs.readFileSync(path.join(dir, 'metadata.json'))); // last: its presence means the export is whole
  }
  const current = await getObject(`${base}/current`).then((b) => b.toString('utf8').trim(), () => '');
  if (current !== String(champion.version)) {
    await putObject(`${base}/current`, `${champion.version}\n`);
    log.info({ version: champion.version, uri: `${base}/current` }, 'the bucket\'s serving/<lineage>/current now names the champion');
  }
}
