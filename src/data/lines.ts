// Streams a text file as batches of lines with 1-based line numbers, never holding the
// whole file. Batches (one per 1 MiB read) keep the per-line cost a loop iteration: an
// await per line would cost more than parsing it.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ChunkBuilder, type RowChunk } from './row-chunk.ts';

export interface LineBatch {
  /** Line number of texts[0]. */
  firstLine: number;
  texts: string[];
}

/** Read size: 1 MiB, or less for small files (a 1 MiB buffer per small file dominated their cost). */
export function readChunkSize(file: string): number {
  try {
    return Math.min(1 << 20, Math.max(1 << 14, fs.statSync(file).size + 1));
  } catch {
    return 1 << 20; // let the stream report the error
  }
}

/**
 * The bytes of a file, in chunks. Files under 1 MiB are read in one synchronous call: for
 * small files a stream's (or even an async readFile's) round trips through the thread pool
 * cost ~1 ms, far more than the read itself, and partitions are often many small files.
 * Larger files are read 1 MiB at a time into ONE buffer, reused for every chunk: a stream
 * allocates a new buffer per chunk, and those (external memory, freed only when the
 * garbage collector gets to them) made peak RSS grow with the amount of data read. So a
 * chunk is valid only until the next one is asked for: consume or copy it first.
 */
export async function* byteChunksOf(file: string): AsyncGenerator<Buffer> {
  const size = readChunkSize(file);
  if (size < 1 << 20) {
    yield fs.readFileSync(file);
    return;
  }
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, size, null);
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
