// Where a checkpoint's files live: `fs` (the artifacts dir, shared by every worker) or
// `postgres` (chunked rows in the registry, for workers without a shared filesystem; the
// artifacts dir is then only a local cache). Either way a reader verifies every byte
// against the manifest hash recorded in the checkpoints row.
import crypto from 'node:crypto';
import path from 'node:path';
import { insertArtifactFiles, insertCheckpoint, readArtifactFiles, type Checkpoint, type NewCheckpoint, type Registry } from '../../registry/index.ts';
import { CorruptDirError, MANIFEST, writeDirAtomically, type Manifest } from './atomic-dir.ts';
import { readCheckpoint, type LoadedCheckpoint } from './checkpoint-io.ts';

export type ArtifactStore = 'fs' | 'postgres';

/**
 * Records a checkpoint just written under artifactsDir/row.uri (`readFiles` reads it back). For the
 * postgres store the files go into the registry in the same transaction as the row:
 * another machine sees both or neither.
 */
export async function recordCheckpoint(db: Registry, store: ArtifactStore, row: NewCheckpoint, readFiles: () => Record<string, Buffer>): Promise<Checkpoint> {
  if (store === 'fs') return insertCheckpoint(db, row);
  const files = readFiles();
  return db.transaction().execute(async (trx) => {
    await insertArtifactFiles(trx, row.uri, files);
    return insertCheckpoint(trx, { ...row, store: 'postgres' });
  });
}

/** Loads a checkpoint's full state, fetching its files from the registry when they are not cached here. */
export async function loadCheckpoint(db: Registry, artifactsDir: string, row: Checkpoint): Promise<LoadedCheckpoint> {
  const dir = path.join(artifactsDir, row.uri);
  if (row.store === 'postgres') {
    try {
      return readCheckpoint(dir, row.manifest_sha256);
    } catch (error) {
      if (!(error instanceof CorruptDirError)) throw error;
      await fetchIntoCache(db, dir, row); // not cached here (another machine wrote it), or damaged
    }
  }
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
