// Writing a directory of files so that a reader sees all of it or none of it: files go
// into a temporary sibling, each is fsync'd, the directory is fsync'd, renamed into place,
// and the parent is fsync'd so the rename itself survives a power cut. A manifest with the
// sha256 of every file lets a reader verify it later.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { coerceError } from '../../core/errors.ts';

export const MANIFEST = 'manifest.json';
export const TEMP_PREFIX = '.tmp-';

export interface Manifest {
  format: 1;
  files: Record<string, { sha256: string; bytes: number }>;
}

export interface WrittenDir {
  dir: string;
  /** sha256 of manifest.json: one hash that pins every byte of the directory. */
  manifestSha256: string;
  bytes: number;
  /** Reads every file back as written, the manifest included (what a store that copies them needs). */
  readFiles(): Record<string, Buffer>;
}

/** A file's content: text, bytes, or bytes in pieces (written with one writev, never joined). */
export type FileContent = string | Uint8Array | readonly Uint8Array[];

function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

const fsyncAsync = promisify(fs.fsync);

/** Writes a new file into the page cache and returns its open descriptor (not yet durable). */
function writeFileUnsynced(file: string, pieces: readonly Uint8Array[]): number {
  const fd = fs.openSync(file, 'wx');
  try {
    let rest = pieces.filter((piece) => piece.byteLength > 0);
    while (rest.length > 0) {
      // writev may write less than asked (a signal, a full disk's last blocks): go on from there.
      let written = fs.writevSync(fd, rest.slice(0, 1024) as NodeJS.ArrayBufferView[]);
      while (rest.length > 0 && written >= rest[0]!.byteLength) written -= rest.shift()!.byteLength;
      if (written > 0) rest[0] = rest[0]!.subarray(written);
    }
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function piecesOf(content: FileContent): readonly Uint8Array[] {
  return typeof content === 'string' ? [Buffer.from(content)] : content instanceof Uint8Array ? [content] : content;
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Atomically creates `dir` holding `files` plus a manifest. An existing `dir` is replaced
 * only when `replace` is set (an orphan left by a crash between rename and registry insert).
 *
 * Every file is written into the page cache first (pieces with one writev each); then
 * their fsyncs run together on libuv's thread pool (a journalling filesystem commits them
 * in one go, where one fsync after another waited for a commit each) while this thread
 * computes their sha256 for the manifest. The manifest and the temporary directory are
 * made durable the same way, before the rename; the parent after it.
 *
 * Everything up to the first await reads `files` and nothing after does, so contents may
 * be views that a later operation invalidates (weight-bytes.ts: tensors on the WASM heap).
 */
export async function writeDirAtomically(dir: string, files: Record<string, FileContent>, { replace = false } = {}): Promise<WrittenDir> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const temp = path.join(parent, `${TEMP_PREFIX}${path.basename(dir)}-${crypto.randomUUID()}`);
  fs.mkdirSync(temp);
  const open: number[] = [];
  try {
    const manifest: Manifest = { format: 1, files: {} };
    const contents = Object.entries(files).map(([name, content]) => [name, piecesOf(content)] as const);
    for (const [name, pieces] of contents) {
      if (name === MANIFEST || name.includes('/')) throw new Error(`invalid file name in a checkpoint: ${name}`);
      open.push(writeFileUnsynced(path.join(temp, name), pieces));
    }
    const synced = Promise.all(open.map((fd) => fsyncAsync(fd)));
    synced.catch(() => {}); // awaited below; a failure must not surface as unhandled meanwhile
    let bytes = 0;
    for (const [name, pieces] of contents) {
      const hash = crypto.createHash('sha256');
      let size = 0;
      for (const piece of pieces) {
        hash.update(piece);
        size += piece.byteLength;
      }
      manifest.files[name] = { sha256: hash.digest('hex'), bytes: size };
      bytes += size;
    }
    await synced;
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const manifestFd = writeFileUnsynced(path.join(temp, MANIFEST), [manifestBytes]);
    open.push(manifestFd);
    await Promise.all([fsyncAsync(manifestFd), fsyncDir(temp)]);
    if (fs.existsSync(dir)) {
      if (!replace) throw new Error(`${dir} already exists`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.renameSync(temp, dir);
    await fsyncDir(parent);
    const names = [...Object.keys(manifest.files), MANIFEST];
    return {
      dir,
      manifestSha256: sha256(manifestBytes),
      bytes: bytes + manifestBytes.byteLength,
      readFiles: () => Object.fromEntries(names.map((name) => [name, fs.readFileSync(path.join(dir, name))])),
    };
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  } finally {
    for (const fd of open) fs.closeSync(fd);
  }
}

/** A directory whose bytes do not match its manifest (or the expected manifest hash). */
export class CorruptDirError extends Error {
  override name = 'CorruptDirError';
}

/** Reads every file of a directory written by writeDirAtomically, verifying every hash. */
export function readDirVerified(dir: string, expectedManifestSha256?: string): Record<string, Buffer> {
  let manifestText: Buffer;
  try {
    manifestText = fs.readFileSync(path.join(dir, MANIFEST));
  } catch (error) {
    throw new CorruptDirError(`${dir}: cannot read ${MANIFEST}: ${coerceError(error).message}`, { cause: error });
  }
  if (expectedManifestSha256 && sha256(manifestText) !== expectedManifestSha256) {
    throw new CorruptDirError(`${dir}: ${MANIFEST} does not match the hash recorded in the registry`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestText.toString('utf8')) as Manifest;
  } catch (error) {
    throw new CorruptDirError(`${dir}: ${MANIFEST} is not valid JSON`, { cause: error });
  }
  const out: Record<string, Buffer> = {};
  for (const [name, expected] of Object.entries(manifest.files)) {
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(dir, name));
    } catch (error) {
      throw new CorruptDirError(`${dir}: ${name} is missing`, { cause: error });
    }
    if (data.byteLength !== expected.bytes || sha256(data) !== expected.sha256) {
      throw new CorruptDirError(`${dir}: ${name} is corrupted (sha256 or size differs from the manifest)`);
    }
    out[name] = data;
  }
  return out;
}
