// CSV with a header row (RFC 4180 quoting within a line; a quoted field may not span lines).
import { DataFileError } from './data-file-error.ts';
import { lineRowChunks } from './lines.ts';
import { isNonNumeric, type CategoryEncoding, type RowChunk } from './row-chunk.ts';

/** Splits one CSV line. Throws a plain Error for an unterminated quote (the caller adds file and line). */
export function splitCsvLine(text: string): string[] {
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new Error('unterminated quoted field (quoted fields may not span lines)');
        value += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      if (i >= text.length) return fields;
      if (text[i] !== ',') throw new Error(`unexpected character after a quoted field at position ${i + 1}`);
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}

export async function* readCsv(file: string, columns: readonly string[], strict: boolean, categories?: CategoryEncoding): AsyncGenerator<RowChunk> {
  let indices: number[] | undefined;
  let width = 0;
  yield* lineRowChunks(file, columns.length, (line, text, row) => {
    let fields: string[];
    try {
      fields = splitCsvLine(line === 1 ? text.replace(/^\uFEFF/, '') : text);
    } catch (error) {
      throw new DataFileError(file, (error as Error).message, { line });
    }
    if (!indices) {
      const header = fields.map((f) => f.trim());
      width = header.length;
      indices = columns.map((column) => {
        const index = header.indexOf(column);
        if (index < 0) throw new DataFileError(file, `missing column "${column}" (header has: ${header.join(', ')})`, { line });
        return index;
      });
      return false;
    }
    if (text === '') return false; // a blank line (often the last one)
    if (fields.length !== width) throw new DataFileError(file, `expected ${width} fields as in the header, found ${fields.length}`, { line });
    for (let c = 0; c < indices.length; c++) {
      const raw = fields[indices[c]!]!;
      if (categories?.columns.has(c)) {
        row[c] = raw === '' ? Number.NaN : categories.encode(c, raw);
        continue;
      }
      row[c] = raw === '' ? Number.NaN : Number(raw);
      if (strict && isNonNumeric(raw, row[c]!)) throw new DataFileError(file, `not a number: ${JSON.stringify(raw.slice(0, 40))}`, { line, column: columns[c]! });
    }
    return true;
  });
  if (!indices) throw new DataFileError(file, 'empty file: no header row');
}
