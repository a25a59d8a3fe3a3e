// The postgres artifact store: a checkpoint's files as rows of at most CHUNK_BYTES each,
// so that workers without a shared filesystem can read each other's checkpoints. Written
// in the caller's transaction (with the checkpoints row), verified by the same manifest
// hashes as files on disk when read back.
import type { Registry } from '../connect.ts';

/** 1 MiB: well under Postgres's 1 GB bytea limit, few rows per checkpoint, modest memory. */
export const CHUNK_BYTES = 1 << 20;

/** Inserts every file of an artifact. Run it in the transaction that inserts the artifact's row. */
export async function insertArtifactFiles(db: Registry, uri: string, files: Record<string, Buffer>): Promise<number> {
  let bytes = 0;
  for (const [file, data] of Object.entries(files)) {
    const chunks = Math.max(1, Math.ceil(data.byteLength / CHUNK_BYTES));
    for (let chunk = 0; chunk < chunks; chunk++) {
      const part = data.subarray(chunk * CHUNK_BYTES, (chunk + 1) * CHUNK_BYTES);
      await db.insertInto('artifact_chunks').values({ uri, file, chunk, data: part }).execute();
      bytes += part.byteLength;
    }
  }
  return bytes;
}

/** Reads an artifact's files back, reassembled in chunk order; undefined when none are stored. */
export async function readArtifactFiles(db: Registry, uri: string): Promise<Record<string, Buffer> | undefined> {
  const rows = await db.selectFrom('artifact_chunks').select(['file', 'chunk', 'data']).where('uri', '=', uri).orderBy('file').orderBy('chunk').execute();
  if (rows.length === 0) return undefined;
  const parts = new Map<string, Buffer[]>();
  for (const row of rows) {
    const list = parts.get(row.file) ?? [];
    if (row.chunk !== list.length) throw new Error(`artifact ${uri}: ${row.file} is missing chunk ${list.length}`);
    list.push(row.data);
    parts.set(row.file, list);
  }
  return Object.fromEntries([...parts].map(([file, list]) => [file, Buffer.concat(list)]));
}

export async function deleteArtifactFiles(db: Registry, uri: string): Promise<void> {
  await db.deleteFrom('artifact_chunks').where('uri', '=', uri).execute();
}
