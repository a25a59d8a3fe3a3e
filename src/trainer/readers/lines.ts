// Streams a text file as batches of lines with 1-based line numbers, never holding the
// whole file. Batches (one per 1 MiB read) keep the per-line cost a loop iteration: an
// await per line would cost more than parsing it.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface LineBatch {
  /** Line number of texts[0]. */
  firstLine: number;
  texts: string[];
}

export async function* readLineBatches(file: string): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
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
