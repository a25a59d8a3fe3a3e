// Picks the reader by file extension.
import path from 'node:path';
import { readCsv } from './csv.ts';
import { DataFileError } from './data-file-error.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';
import type { CategoryEncoding, RowChunk } from './row-chunk.ts';

export const DATA_FILE_EXTENSIONS = ['.csv', '.jsonl', '.parquet'] as const;

export function isDataFile(file: string): boolean {
  return (DATA_FILE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}

export interface ReadOptions {
  /**
   * Reject (DataFileError naming line and column) a value that is present but not a
   * number. Off: such values read as NaN, like missing ones (the trainer skips the row).
   */
  strict?: boolean;
  /** Categorical columns and how their values become numbers (vocabulary ids); without it every column is numeric. */
  categories?: CategoryEncoding;
  /**
   * CSV and JSON Lines: a data line that cannot be read is handed to this and skipped, and
   * the rest of the file is read (batch prediction). Unset: the first such line throws.
   */
  onBadRow?: (error: DataFileError) => void;
}

/** Streams the requested columns of a data file as numeric chunks (categorical columns through `options.categories`). */
export function readTable(file: string, columns: readonly string[], options: ReadOptions = {}): AsyncGenerator<RowChunk> {
  switch (path.extname(file).toLowerCase()) {
    case '.csv':
      return readCsv(file, columns, options.strict ?? false, options.categories, options.onBadRow);
    case '.jsonl':
      return readJsonl(file, columns, options.strict ?? false, options.categories, options.onBadRow);
    case '.parquet':
      return readParquet(file, columns, options.strict ?? false, options.categories);
    default:
      throw new DataFileError(file, `unknown file type (expected ${DATA_FILE_EXTENSIONS.join(', ')})`);
  }
}
