// JSON Lines: one object per line. A key absent from a row is a missing value.
import { DataFileError } from './data-file-error.ts';
import { lineRowChunks } from './lines.ts';
import { encodeCategory, isNonNumeric, toNumber, type CategoryEncoding, type RowChunk } from './row-chunk.ts';
import { coerceError } from '../core/errors.ts';

/** Streams the requested columns of a JSON Lines file; `onBadRow` as in readCsv (a line that cannot be read is handed to it and skipped). */
export function readJsonl(file: string, columns: readonly string[], strict: boolean, categories?: CategoryEncoding, onBadRow?: (error: DataFileError) => void): AsyncGenerator<RowChunk> {
  const parse = (line: number, text: string, row: Float64Array): boolean => {
    if (text.trim() === '') return false;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      throw new DataFileError(file, `not valid JSON: ${coerceError(error).message}`, { line });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new DataFileError(file, 'each line must be a JSON object', { line });
    for (let c = 0; c < columns.length; c++) {
      const value = (record as Record<string, unknown>)[columns[c]!];
      if (categories?.columns.has(c)) {
        row[c] = encodeCategory(categories, c, value, strict, (message) => {
          throw new DataFileError(file, message, { line, column: columns[c]! });
        });
        continue;
      }
      row[c] = toNumber(value);
      if (strict && isNonNumeric(value, row[c]!)) throw new DataFileError(file, `not a number: ${JSON.stringify(value).slice(0, 40)}`, { line, column: columns[c]! });
    }
    return true;
  };
  if (!onBadRow) return lineRowChunks(file, columns.length, parse);
  return lineRowChunks(file, columns.length, (line, text, row) => {
    try {
      return parse(line, text, row);
    } catch (error) {
      if (!(error instanceof DataFileError)) throw error;
      onBadRow(error);
      return false;
    }
  });
}
