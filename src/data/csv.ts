// CSV with a header row (RFC 4180 quoting within a line; a quoted field may not span lines).
import { DataFileError } from './data-file-error.ts';
import { lineRowChunks } from './lines.ts';
import { isNonNumeric, type CategoryEncoding, type RowChunk } from './row-chunk.ts';
import { coerceError } from '../core/errors.ts';

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

/** A CSV line's fields; an unterminated quote is a DataFileError naming the line. */
export function csvFields(file: string, text: string, line: number): string[] {
  try {
    return splitCsvLine(line === 1 ? text.replace(/^\uFEFF/, '') : text);
  } catch (error) {
    throw new DataFileError(file, coerceError(error).message, { line });
  }
}

/** The header field of each requested column; a missing one is a DataFileError naming it and the header. */
export function csvColumnIndices(file: string, headerFields: readonly string[], columns: readonly string[], line: number): number[] {
  const header = headerFields.map((f) => f.trim());
  return columns.map((column) => {
    const index = header.indexOf(column);
    if (index < 0) throw new DataFileError(file, `missing column "${column}" (header has: ${header.join(', ')})`, { line });
    return index;
  });
}

/**
 * Fills `row` with the requested values of one data line, as the reader reads them: the
 * field count must be the header's; '' is missing (NaN); a categorical value goes through
 * `categories`; with `strict`, a present value that is not a number is a DataFileError
 * naming line and column.
 */
export function csvRowValues(file: string, fields: readonly string[], width: number, indices: readonly number[], columns: readonly string[], line: number, strict: boolean, categories: CategoryEncoding | undefined, row: Float64Array): void {
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
}

/**
 * Streams the requested columns of a CSV file. With `onBadRow`, a data line that cannot be
 * read (wrong field count, an unterminated quote, a strict non-number) is handed to it and
 * skipped, and the rest of the file is still read; without it, the first such line throws.
 * A bad header always throws: no row of the file could be read.
 */
export async function* readCsv(file: string, columns: readonly string[], strict: boolean, categories?: CategoryEncoding, onBadRow?: (error: DataFileError) => void): AsyncGenerator<RowChunk> {
  let indices: number[] | undefined;
  let width = 0;
  yield* lineRowChunks(file, columns.length, (line, text, row) => {
    if (!indices) {
      const fields = csvFields(file, text, line);
      width = fields.length;
      indices = csvColumnIndices(file, fields, columns, line);
      return false;
    }
    if (text === '') return false; // a blank line (often the last one)
    try {
      csvRowValues(file, csvFields(file, text, line), width, indices, columns, line, strict, categories, row);
      return true;
    } catch (error) {
      if (!onBadRow || !(error instanceof DataFileError)) throw error;
      onBadRow(error);
      return false;
    }
  });
  if (!indices) throw new DataFileError(file, 'empty file: no header row');
}
