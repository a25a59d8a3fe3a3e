// A local cache of objects read from S3, keyed by location and ETag: a retrain reads its
// replayed partitions again, and those objects have not changed, so the second read is a
// conditional GET answered 304 Not Modified and the bytes come from the local copy. Bounded
// by `bytes`: after each new copy the oldest copies (by last use) go first. Copies are
// written to a temporary name and renamed, so a reader (another thread, another process
// sharing the folder) sees a whole copy or none.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ObjectCacheOptions {
  dir: string;
  bytes: number;
}

export class ObjectCache {
  readonly #dir: string;
  readonly #bytes: number;

  constructor({ dir, bytes }: ObjectCacheOptions) {
    this.#dir = dir;
    this.#bytes = bytes;
  }

  #base(location: string): string {
    return path.join(this.#dir, crypto.createHash('sha256').update(location).digest('hex').slice(0, 32));
  }

  /** The cached copy of `location`, with its ETag, if there is one; its use is recorded (for eviction). */
  lookup(location: string): { etag: string; file: string } | undefined {
    const base = this.#base(location);
    let etag: string;
    try {
      etag = fs.readFileSync(`${base}.etag`, 'utf8');
    } catch {
      return undefined;
    }
    const file = `${base}.data`;
    if (!fs.existsSync(file)) return undefined;
    const now = new Date();
    fs.utimesSync(file, now, now);
    return { etag, file };
  }

  /** Stores a whole object's bytes under its ETag (a copy that does not fit the bound is not kept). */
  store(location: string, etag: string, data: Buffer): void {
    if (data.length > this.#bytes) return;
    fs.mkdirSync(this.#dir, { recursive: true });
    const base = this.#base(location);
    const temp = `${base}.${crypto.randomUUID()}.tmp`;
    fs.writeFileSync(temp, data);
    fs.renameSync(temp, `${base}.data`);
    fs.writeFileSync(`${temp}.etag`, etag);
    fs.renameSync(`${temp}.etag`, `${base}.etag`);
    this.#evict();
  }

  /** Removes the least recently used copies until the cache fits its bound. */
  #evict(): void {
    const copies = fs
      .readdirSync(this.#dir)
      .filter((name) => name.endsWith('.data'))
      .map((name) => {
        const file = path.join(this.#dir, name);
        try {
          const stat = fs.statSync(file);
          return { file, bytes: stat.size, usedMs: stat.mtimeMs };
        } catch {
          return undefined; // evicted meanwhile by another reader
        }
      })
      .filter((c) => c !== undefined)
      .sort((a, b) => a.usedMs - b.usedMs);
    let total = copies.reduce((n, c) => n + c.bytes, 0);
    for (const copy of copies) {
      if (total <= this.#bytes) break;
      fs.rmSync(copy.file, { force: true });
      fs.rmSync(copy.file.replace(/\.data$/, '.etag'), { force: true });
      total -= copy.bytes;
    }
  }
}
