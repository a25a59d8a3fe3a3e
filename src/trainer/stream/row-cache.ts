// A run's parsed rows, kept on disk between its passes. A run passes over the same
// partitions several times (a first run `stopPoint` times, a retrain once per few virtual
// epochs), and parsing CSV or JSON is what the training stream spends its time on; the
// binary copy of a file's row chunks, written while the first pass parses it, is read back
// by every later pass at the speed of a file read. Memory stays bounded (one chunk at a
// time, arrays reused), and the rows, line numbers and chunking are exactly those of the
// reader, so the batches, and resume, are unchanged.
//
// Format of <cacheDir>/<n>.rows, one record per chunk: rowCount (u32), lines (i32 ×
// rowCount), values (f64 × rowCount × width). Written to `.partial` and renamed when the
// file was read to its end; a cache reads only the copies it completed itself. If a copy
// cannot be written (a full disk), the stream goes on reading the files: the copies are an
// optimisation, and they take about as much room in artifactsDir as the data files.
import fs from 'node:fs';
import path from 'node:path';
import type { RowChunk } from '../../data/index.ts';

export class RowCache {
  readonly #dir: string;
  readonly #names = new Map<string, string>();
  /** Copies known to be complete (written by this cache). */
  readonly #complete = new Set<string>();
  /** Set when a copy could not be written: from then on every pass reads the files. */
  #disabled = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The file's rows of `columns`: from the cache when a complete copy is there, else `read` (and copied). */
  async *rows(file: string, columns: readonly string[], read: () => AsyncIterable<RowChunk>): AsyncGenerator<RowChunk> {
    const key = `${file}\u0000${columns.join('\u0000')}`;
    let name = this.#names.get(key);
    if (name === undefined) this.#names.set(key, (name = `${this.#names.size}.rows`));
    const cached = path.join(this.#dir, name);
    if (this.#complete.has(cached)) {
      yield* readCached(cached, columns.length);
      return;
    }
    // The copy is an optimisation: if it cannot be written (a full disk), training goes on
    // reading the files, and the error of a real shortage comes from the checkpoint write.
    let fd: number | undefined;
    const partial = `${cached}.partial`;
    const abandon = (): void => {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      fs.rmSync(partial, { force: true });
    };
    if (!this.#disabled) {
      try {
        fs.mkdirSync(this.#dir, { recursive: true });
        fd = fs.openSync(partial, 'w');
      } catch {
        this.#disabled = true;
      }
    }
    let complete = false;
    try {
      const header = new Uint32Array(1);
      for await (const chunk of read()) {
        if (fd !== undefined) {
          try {
            header[0] = chunk.rowCount;
            fs.writeSync(fd, header);
            fs.writeSync(fd, chunk.lines);
            fs.writeSync(fd, chunk.values);
          } catch {
            this.#disabled = true;
            abandon();
          }
        }
        yield chunk;
      }
      complete = true;
    } finally {
      if (fd !== undefined && complete) {
        fs.closeSync(fd);
        fs.renameSync(partial, cached);
        this.#complete.add(cached);
      } else abandon();
    }
  }

  /** Removes the cache (a stream that ends, or is abandoned, takes its copies with it). */
  remove(): void {
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function* readCached(file: string, width: number): AsyncGenerator<RowChunk> {
  const handle = await fs.promises.open(file, 'r');
  try {
    let lines = new Int32Array(0);
    let values = new Float64Array(0);
    const header = new Uint32Array(1);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(header, 0, 4, position);
      if (bytesRead === 0) return;
      const rows = header[0]!;
      position += 4;
      if (lines.length < rows) {
        lines = new Int32Array(rows);
        values = new Float64Array(rows * width);
      }
      await handle.read(lines, 0, rows * 4, position);
      position += rows * 4;
      await handle.read(values, 0, rows * width * 8, position);
      position += rows * width * 8;
      yield { values: values.subarray(0, rows * width), lines: lines.subarray(0, rows), rowCount: rows };
    }
  } finally {
    await handle.close();
  }
}
