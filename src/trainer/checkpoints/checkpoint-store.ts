// The artifact store for checkpoints: where a checkpoint's files live — `fs` (the
// artifacts dir, shared by every worker), `postgres` (chunked rows in the registry, for
// workers without a shared filesystem) or `s3` (objects under artifactsUri, for workers on
// several machines); with the last two the artifacts dir is only a local cache. Either way
// a reader verifies every byte against the manifest hash recorded in the checkpoints row.
import crypto from 'node:crypto';
import { ConfigError } from '../../core/errors.ts';
import path from 'node:path';
import { deleteObjects, getObject, putObject } from '../../data/index.ts';
import { insertArtifactFiles, insertCheckpoint, readArtifactFiles, type Checkpoint, type NewCheckpoint, type Registry } from '../../registry/index.ts';
import { CorruptDirError, MANIFEST, readDirVerified, writeDirAtomically, type Manifest } from './atomic-dir.ts';
import { readCheckpoint, type LoadedCheckpoint } from './checkpoint-io.ts';

export type ArtifactStoreKind = 'fs' | 'postgres' | 's3';

/** Where artifacts are: the local artifacts dir (the store, or its cache) and, for the s3 store, the bucket prefix. */
export interface ArtifactLocations {
  artifactsDir: string;
  artifactsUri?: string | undefined;
}

/**
 * Where a checkpoint's files are kept beyond the local artifacts dir. The trainer writes a
 * checkpoint atomically into artifactsDir/row.uri first; the store then records it (after
 * `record`, every machine that shares the store can load it) and, on another machine,
 * makes its files present locally again (`fetch`, verified against the manifest hash). A
 * new store (object storage) is one more implementation and one more `artifactStore`
 * value; which store a checkpoint is in is kept on its row, so changing the setting never
 * strands the checkpoints already written.
 */
export interface ArtifactStore {
  readonly kind: ArtifactStoreKind;
  /** Records a checkpoint just written under artifactsDir/row.uri (`readFiles` reads it back). */
  record(db: Registry, row: NewCheckpoint, readFiles: () => Record<string, Buffer>): Promise<Checkpoint>;
  /** Makes the checkpoint's files present and intact under `dir` (the local copy), fetching them if needed. */
  fetch(db: Registry, dir: string, row: Checkpoint): Promise<void>;
  /** Deletes a checkpoint's stored copy (retention, after its row is gone); the local copy is the caller's. */
  remove(row: Pick<Checkpoint, 'uri'>): Promise<void>;
}

/** The artifacts dir itself (shared by every worker): the row is the record; the files are already where readers look. */
const filesystemStore: ArtifactStore = {
  kind: 'fs',
  record: (db, row) => insertCheckpoint(db, row),
  fetch: async () => {},
  remove: async () => {}, // the files are the local copy
};

/**
 * Chunked rows in the registry, for workers without a shared filesystem; the artifacts dir
 * is a local cache. The files go in in the same transaction as the row: another machine
 * sees both or neither.
 */
const postgresStore: ArtifactStore = {
  kind: 'postgres',
  async record(db, row, readFiles) {
    const files = readFiles();
    return db.transaction().execute(async (trx) => {
      await insertArtifactFiles(trx, row.uri, files);
      return insertCheckpoint(trx, { ...row, store: 'postgres' });
    });
  },
  async fetch(db, dir, row) {
    try {
      readDirVerified(dir, row.manifest_sha256); // cached here and intact
    } catch (error) {
      if (!(error instanceof CorruptDirError)) throw error;
      await fetchIntoCache(row, dir, await readArtifactFiles(db, row.uri)); // not cached here (another machine wrote it), or damaged
    }
  },
  remove: async () => {}, // the chunks go with the row, in its transaction (deleteCheckpointRow)
};

/**
 * Objects under artifactsUri, for workers on several machines with no shared disk. The
 * manifest (each file's sha256) is put last: a checkpoint whose manifest is there is whole,
 * and its row is inserted only after that, so another machine never finds a row whose files
 * are missing. A reader verifies the manifest against the row's hash and each file against
 * the manifest.
 */
function s3Store(artifactsUri: string): ArtifactStore {
  const base = artifactsUri.replace(/\/+$/, '');
  return {
    kind: 's3',
    async record(db, row, readFiles) {
      const files = readFiles();
      for (const [name, data] of Object.entries(files)) if (name !== MANIFEST) await putObject(`${base}/${row.uri}/${name}`, data);
      await putObject(`${base}/${row.uri}/${MANIFEST}`, files[MANIFEST]!);
      return insertCheckpoint(db, { ...row, store: 's3' });
    },
    async fetch(_db, dir, row) {
      try {
        readDirVerified(dir, row.manifest_sha256); // cached here and intact
        return;
      } catch (error) {
        if (!(error instanceof CorruptDirError)) throw error;
      }
      const manifest = await getObject(`${base}/${row.uri}/${MANIFEST}`).catch((error: unknown) => {
        throw new CorruptDirError(`checkpoint ${row.id}: ${base}/${row.uri}/${MANIFEST} cannot be read (${(error as Error).message})`, { cause: error });
      });
      const names = Object.keys((JSON.parse(manifest.toString('utf8')) as Manifest).files);
      const stored: Record<string, Buffer> = { [MANIFEST]: manifest };
      for (const name of names) stored[name] = await getObject(`${base}/${row.uri}/${name}`);
      await fetchIntoCache(row, dir, stored);
    },
    async remove(row) {
      await deleteObjects(`${base}/${row.uri}`);
    },
  };
}

export function artifactStore(kind: ArtifactStoreKind, locations: ArtifactLocations): ArtifactStore {
  if (kind === 's3') {
    if (!locations.artifactsUri) throw new ConfigError('artifactStore s3 needs artifactsUri (s3://bucket/prefix): a checkpoint in the s3 store cannot be read without it');
    return s3Store(locations.artifactsUri);
  }
  return kind === 'postgres' ? postgresStore : filesystemStore;
}

/** Loads a checkpoint's full state from the store it was recorded in, verified against its manifest hash. */
export async function loadCheckpoint(db: Registry, locations: ArtifactLocations, row: Checkpoint): Promise<LoadedCheckpoint> {
  const dir = path.join(locations.artifactsDir, row.uri);
  await artifactStore(row.store as ArtifactStoreKind, locations).fetch(db, dir, row);
  return readCheckpoint(dir, row.manifest_sha256);
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes the stored files into the cache in their manifest's order, so the manifest comes out byte-identical; every byte verified first. */
async function fetchIntoCache(row: Checkpoint, dir: string, stored: Record<string, Buffer> | undefined): Promise<void> {
  if (!stored?.[MANIFEST]) throw new CorruptDirError(`checkpoint ${row.id}: the ${row.store} store holds no manifest for ${row.uri}`);
  if (sha256(stored[MANIFEST]) !== row.manifest_sha256) throw new CorruptDirError(`checkpoint ${row.id}: the stored ${MANIFEST} of ${row.uri} does not match the hash recorded in the registry`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(stored[MANIFEST].toString('utf8')) as Manifest;
  } catch (error) {
    throw new CorruptDirError(`checkpoint ${row.id}: the stored ${MANIFEST} is not valid JSON`, { cause: error });
  }
  const files: Record<string, Buffer> = {};
  for (const name of Object.keys(manifest.files)) {
    const data = stored[name];
    if (!data) throw new CorruptDirError(`checkpoint ${row.id}: the ${row.store} store lacks ${name} of ${row.uri}`);
    if (sha256(data) !== manifest.files[name]!.sha256) throw new CorruptDirError(`checkpoint ${row.id}: ${name} of ${row.uri} in the ${row.store} store does not match its manifest hash`);
    files[name] = data;
  }
  await writeDirAtomically(dir, files, { replace: true });
}
