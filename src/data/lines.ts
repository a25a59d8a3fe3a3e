// Streams a text file as batches of lines with 1-based line numbers, never holding the
// whole file. Batches (one per read: the whole of a small file, or 256 KiB of a large one)
// keep the per-line cost a loop iteration: an await per line would cost more than parsing it.
import { doorFor } from './file-door.ts';
import { StringDecoder } from 'node:string_decoder';
import { ChunkBuilder, type RowChunk } from './row-chunk.ts';

export interface LineBatch {
  /** Line number of texts[0]. */
  firstLine: number;
  texts: string[];
}

/** Larger files are read in chunks of this size (see local-door.ts for why one reused buffer). */
const CHUNK = 256 << 10;

/**
 * The bytes of a file, in chunks, through the door for its location (file-door.ts). A
 * chunk is valid only until the next one is asked for: consume or copy it first. A pass
 * that makes no strings (the CSV validation pass) can read larger chunks: fewer round
 * trips through the thread pool.
 */
export function byteChunksOf(file: string, chunkBytes = CHUNK): AsyncGenerator<Buffer> {
  return doorFor(file).chunks(file, chunkBytes);
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
