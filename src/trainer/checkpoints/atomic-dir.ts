// Writing a directory of files so that a reader sees all of it or none of it: files go
// into a temporary sibling, each is fsync'd, the directory is fsync'd, renamed into place,
// and the parent is fsync'd so the rename itself survives a power cut. A manifest with the
// sha256 of every file lets a reader verify it later.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

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
  /** Every file as written, the manifest included (what a store that copies them needs). */
  files: Record<string, Buffer>;
}

function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

const fsyncAsync = promisify(fs.fsync);

/** Writes a new file into the page cache and returns its open descriptor (not yet durable). */
function writeFileUnsynced(file: string, data: Uint8Array): number {
  const fd = fs.openSync(file, 'wx');
  try {
    for (let offset = 0; offset < data.byteLength; ) offset += fs.writeSync(fd, data, offset);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
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
 * Every file is written into the page cache first; then their fsyncs run together on
 * libuv's thread pool (a journalling filesystem commits them in one go, where one fsync
 * after another waited for a commit each) while this thread computes their sha256 for the
 * manifest. The manifest and the temporary directory are made durable the same way, before
 * the rename; the parent after it.
 */
export async function writeDirAtomically(dir: string, files: Record<string, Uint8Array | string>, { replace = false } = {}): Promise<WrittenDir> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const temp = path.join(parent, `${TEMP_PREFIX}${path.basename(dir)}-${crypto.randomUUID()}`);
  fs.mkdirSync(temp);
  const open: number[] = [];
  try {
    const manifest: Manifest = { format: 1, files: {} };
    const written: Record<string, Buffer> = {};
    let bytes = 0;
    for (const [name, content] of Object.entries(files)) {
      if (name === MANIFEST || name.includes('/')) throw new Error(`invalid file name in a checkpoint: ${name}`);
      const data = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
      open.push(writeFileUnsynced(path.join(temp, name), data));
      written[name] = data;
      bytes += data.byteLength;
    }
    const synced = Promise.all(open.map((fd) => fsyncAsync(fd)));
    synced.catch(() => {}); // awaited below; a failure must not surface as unhandled meanwhile
    for (const [name, data] of Object.entries(written)) manifest.files[name] = { sha256: sha256(data), bytes: data.byteLength };
    await synced;
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const manifestFd = writeFileUnsynced(path.join(temp, MANIFEST), manifestBytes);
    open.push(manifestFd);
    written[MANIFEST] = manifestBytes;
    await Promise.all([fsyncAsync(manifestFd), fsyncDir(temp)]);
    if (fs.existsSync(dir)) {
      if (!replace) throw new Error(`${dir} already exists`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.renameSync(temp, dir);
    await fsyncDir(parent);
    return { dir, manifestSha256: sha256(manifestBytes), bytes: bytes + manifestBytes.byteLength, files: written };
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
    throw new CorruptDirError(`${dir}: cannot read ${MANIFEST}: ${(error as Error).message}`, { cause: error });
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
