// Streams a text file as batches of lines with 1-based line numbers, never holding the
// whole file. Batches (one per read: the whole of a small file, or 256 KiB of a large one)
// keep the per-line cost a loop iteration: an await per line would cost more than parsing it.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ChunkBuilder, type RowChunk } from './row-chunk.ts';

export interface LineBatch {
  /** Line number of texts[0]. */
  firstLine: number;
  texts: string[];
}

/** Files smaller than this are read in one synchronous call. */
const SMALL_FILE = 1 << 20;
/** Larger files are read in chunks of this size. */
const CHUNK = 256 << 10;

function isSmallFile(file: string): boolean {
  try {
    return fs.statSync(file).size < SMALL_FILE;
  } catch {
    return false; // let the open report the error
  }
}

/**
 * The bytes of a file, in chunks. Files under 1 MiB are read in one synchronous call: for
 * small files a stream's (or even an async readFile's) round trips through the thread pool
 * cost ~1 ms, far more than the read itself, and partitions are often many small files.
 * Larger files are read 256 KiB at a time into ONE buffer, reused for every chunk. Both
 * choices hold peak RSS flat as the data read grows (bench:train, rss-1x against rss-16x:
 * 1.29× with a stream's new 1 MiB buffer per chunk, 0.99× now): a new buffer per chunk is
 * external memory freed only when the garbage collector gets to it, and a 1 MiB chunk's
 * lines lived long enough, while being parsed, to be promoted to the old generation, which
 * then grew with the data. So a chunk is valid only until the next one is asked for:
 * consume or copy it first. A pass that makes no strings (the CSV validation pass) can
 * read larger chunks: fewer round trips through the thread pool.
 */
export async function* byteChunksOf(file: string, chunkBytes = CHUNK): AsyncGenerator<Buffer> {
  if (isSmallFile(file)) {
    yield fs.readFileSync(file);
    return;
  }
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

export async function* readLineBatches(file: string): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of byteChunksOf(file)) {
    pending += decoder.write(chunk as Buffer);
    const texts = pending.split('\n');
    pending = texts.pop()!;
    if (texts.length === 0) continue;
    for (let i = 0; i < texts.length; i++) if (texts[i]!.endsWith('\r')) texts[i] = texts[i]!.slice(0, -1);
    yield { firstLine: line + 1, texts };
    line += texts.length;
  }
  pending += decoder.end();
  if (pending.length > 0) yield { firstLine: line + 1, texts: [pending.endsWith('\r') ? pending.slice(0, -1) : pending] };
}

/**
 * The loop every line-based reader shares: `parseLine(line, text, row)` fills `row` with
 * the requested columns and returns true, or returns false to skip the line (a header, a
 * blank line). Rows are collected into chunks.
 */
export async function* lineRowChunks(
  file: string,
  width: number,
  parseLine: (line: number, text: string, row: Float64Array) => boolean,
): AsyncGenerator<RowChunk> {
  const builder = new ChunkBuilder(width);
  const row = new Float64Array(width);
  for await (const { firstLine, texts } of readLineBatches(file)) {
    for (let i = 0; i < texts.length; i++) {
      if (!parseLine(firstLine + i, texts[i]!, row)) continue;
      const chunk = builder.push(firstLine + i, row);
      if (chunk) yield chunk;
    }
  }
  const last = builder.flush();
  if (last) yield last;
}
