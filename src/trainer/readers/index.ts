// Picks the reader by file extension.
import path from 'node:path';
import { readCsv } from './csv.ts';
import { DataFileError } from './data-file-error.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';
import type { RowChunk } from './row-chunk.ts';

export { DataFileError } from './data-file-error.ts';
export type { RowChunk } from './row-chunk.ts';
export { splitCsvLine } from './csv.ts';

export const DATA_FILE_EXTENSIONS = ['.csv', '.jsonl', '.parquet'] as const;

export function isDataFile(file: string): boolean {
  return (DATA_FILE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}

/** Streams the requested columns of a data file as numeric chunks. */
export function readTable(file: string, columns: readonly string[]): AsyncGenerator<RowChunk> {
  switch (path.extname(file).toLowerCase()) {
    case '.csv':
      return readCsv(file, columns);
    case '.jsonl':
      return readJsonl(file, columns);
    case '.parquet':
      return readParquet(file, columns);
    default:
      throw new DataFileError(file, `unknown file type (expected ${DATA_FILE_EXTENSIONS.join(', ')})`);
  }
}
