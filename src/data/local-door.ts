// The local filesystem behind the door (file-door.ts): what the readers, the watcher and
// the schema sniff did with `fs` directly before, moved here unchanged — small files in one
// synchronous read, larger ones through ONE reused buffer (see `chunks`), so the measured
// paths (bench:train, bench:watch) keep their numbers.
import fs from 'node:fs';
import path from 'node:path';
import type { DoorEntry, FileDoor } from './file-door.ts';

/** Files smaller than this are read in one synchronous call. */
const SMALL_FILE = 1 << 20;

/** A local file's size and last change, synchronously (the local source's walk and completion checks). */
export function statLocal(location: string): { bytes: number; modifiedMs: number } {
  const stat = fs.statSync(location);
  return { bytes: stat.size, modifiedMs: stat.mtime.getTime() }; // the Date's whole milliseconds, as registrations have always recorded
}

/** A local folder's entries, synchronously (the local source's walk and completion checks). */
export function listLocal(folder: string): DoorEntry[] {
  return fs.readdirSync(folder, { withFileTypes: true }).map((entry): DoorEntry => {
    if (!entry.isFile()) return { name: entry.name, kind: entry.isDirectory() ? 'folder' : 'other', bytes: 0, modifiedMs: 0 };
    const stat = fs.statSync(path.join(folder, entry.name));
    return { name: entry.name, kind: 'file', bytes: stat.size, modifiedMs: stat.mtime.getTime() };
  });
}

export const localFileDoor: FileDoor = {
  // Synchronous calls behind a promise: a stat or a listing is a few microseconds, less than a thread-pool round trip.
  stat: async (location) => statLocal(location),
  list: async (folder) => listLocal(folder),

  /**
   * Files under 1 MiB are read in one synchronous call: for small files a stream's (or even
   * an async readFile's) round trips through the thread pool cost ~1 ms, far more than the
   * read itself, and partitions are often many small files. Larger files are read
   * `chunkBytes` at a time into ONE buffer, reused for every chunk. Both choices hold peak
   * RSS flat as the data read grows (bench:train, rss-1x against rss-16x: 1.29× with a
   * stream's new 1 MiB buffer per chunk, 0.99× now): a new buffer per chunk is external
   * memory freed only when the garbage collector gets to it, and a 1 MiB chunk's lines
   * lived long enough, while being parsed, to be promoted to the old generation, which then
   * grew with the data.
   */
  async *chunks(location, chunkBytes) {
    let size = Infinity;
    try {
      size = fs.statSync(location).size;
    } catch {
      // let the open report the error
    }
    if (size < SMALL_FILE) {
      yield fs.readFileSync(location);
      return;
    }
    const handle = await fs.promises.open(location, 'r');
    try {
      // No bigger than the file (+1, so that one read sees its end): the validation pass
      // asks for 4 MiB chunks, and a 4 MiB buffer for a 1.2 MB file was external memory
      // that made the collector run twice as often (bench:watch › statistics pass).
      const length = Math.min(chunkBytes, size + 1);
      const buffer = Buffer.allocUnsafe(length);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, length, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  },

  async range(location, start, end) {
    const handle = await fs.promises.open(location, 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, end - start));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + bytesRead) as ArrayBuffer;
    } finally {
      await handle.close();
    }
  },

  join: (folder, name) => path.join(folder, name),
};

