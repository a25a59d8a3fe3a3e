// Streams a text file line by line with 1-based line numbers, without readline's overhead
// and without ever holding the whole file.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    pending += decoder.write(chunk as Buffer);
    let start = 0;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n', start)) {
      line += 1;
      const end = newline > start && pending.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      yield { line, text: pending.slice(start, end) };
      start = newline + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) yield { line: line + 1, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending };
}
