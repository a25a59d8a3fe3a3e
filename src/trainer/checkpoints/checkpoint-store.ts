// The artifact store for checkpoints: where a checkpoint's files live — `fs` (the
// artifacts dir, shared by every worker) or `postgres` (chunked rows in the registry, for
// workers without a shared filesystem; the artifacts dir is then only a local cache).
// Either way a reader verifies every byte against the manifest hash recorded in the
// checkpoints row.
import crypto from 'node:crypto';
import path from 'node:path';
import { insertArtifactFiles, insertCheckpoint, readArtifactFiles, type Checkpoint, type NewCheckpoint, type Registry } from '../../registry/index.ts';
import { CorruptDirError, MANIFEST, readDirVerified, writeDirAtomically, type Manifest } from './atomic-dir.ts';
import { readCheckpoint, type LoadedCheckpoint } from './checkpoint-io.ts';

export type ArtifactStoreKind = 'fs' | 'postgres';

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
}

/** The artifacts dir itself (shared by every worker): the row is the record; the files are already where readers look. */
const filesystemStore: ArtifactStore = {
  kind: 'fs',
  record: (db, row) => insertCheckpoint(db, row),
  fetch: async () => {},
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
      await fetchIntoCache(db, dir, row); // not cached here (another machine wrote it), or damaged
    }
  },
};

export function artifactStore(kind: ArtifactStoreKind): ArtifactStore {
  return kind === 'postgres' ? postgresStore : filesystemStore;
}

/** Loads a checkpoint's full state from the store it was recorded in, verified against its manifest hash. */
export async function loadCheckpoint(db: Registry, artifactsDir: string, row: Checkpoint): Promise<LoadedCheckpoint> {
  const dir = path.join(artifactsDir, row.uri);
  await artifactStore(row.store as ArtifactStoreKind).fetch(db, dir, row);
  return readCheckpoint(dir, row.manifest_sha256);
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes the stored files into the cache in their manifest's order, so the manifest comes out byte-identical. */
async function fetchIntoCache(db: Registry, dir: string, row: Checkpoint): Promise<void> {
  const stored = await readArtifactFiles(db, row.uri);
  if (!stored?.[MANIFEST]) throw new CorruptDirError(`checkpoint ${row.id}: the postgres store holds no manifest for ${row.uri}`);
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
    if (!data) throw new CorruptDirError(`checkpoint ${row.id}: the postgres store lacks ${name} of ${row.uri}`);
    if (sha256(data) !== manifest.files[name]!.sha256) throw new CorruptDirError(`checkpoint ${row.id}: ${name} of ${row.uri} in the postgres store does not match its manifest hash`);
    files[name] = data;
  }
  await writeDirAtomically(dir, files, { replace: true });
}
