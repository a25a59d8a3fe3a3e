// Parquet through hyparquet, one row group at a time (never the whole file), with
// hyparquet-compressors for ZSTD, Snappy, gzip, Brotli and LZ4.
import { parquetMetadataAsync, parquetRead, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataFileError } from './data-file-error.ts';
import { doorFor } from './file-door.ts';
import { ChunkBuilder, encodeCategory, isNonNumeric, toNumber, type CategoryEncoding, type RowChunk } from './row-chunk.ts';
import { coerceError } from '../core/errors.ts';

/** A Parquet file as hyparquet reads it: its size, and byte ranges through the door for its location. */
export async function parquetBuffer(file: string): Promise<AsyncBuffer> {
  const door = doorFor(file);
  const { bytes } = await door.stat(file);
  return { byteLength: bytes, slice: (start: number, end?: number) => door.range(file, start, end ?? bytes) };
}

export async function* readParquet(file: string, columns: readonly string[], strict: boolean, categories?: CategoryEncoding): AsyncGenerator<RowChunk> {
  let buffer;
  let metadata;
  try {
    buffer = await parquetBuffer(file);
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new DataFileError(file, `not a readable Parquet file: ${coerceError(error).message}`, {}, { cause: error });
  }
  const present = new Set(metadata.schema.slice(1).map((element) => element.name));
  for (const column of columns) {
    if (!present.has(column)) throw new DataFileError(file, `missing column "${column}" (schema has: ${[...present].join(', ')})`);
  }
  const builder = new ChunkBuilder(columns.length);
  const row = new Float64Array(columns.length);
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file: buffer,
        metadata,
        columns: [...columns],
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors,
        onComplete: (data: unknown[][]) => {
          rows = data;
        },
      });
    } catch (error) {
      throw new DataFileError(file, `cannot read row group at row ${groupStart + 1}: ${coerceError(error).message}`, { line: groupStart + 1 }, { cause: error });
    }
    for (let r = 0; r < rows.length; r++) {
      const record = rows[r]!;
      for (let c = 0; c < columns.length; c++) {
        if (categories?.columns.has(c)) {
          row[c] = encodeCategory(categories, c, record[c], strict, (message) => {
            throw new DataFileError(file, message, { line: groupStart + r + 1, column: columns[c]! });
          });
          continue;
        }
        row[c] = toNumber(record[c]);
        if (strict && isNonNumeric(record[c], row[c]!)) throw new DataFileError(file, `not a number: ${JSON.stringify(String(record[c])).slice(0, 40)}`, { line: groupStart + r + 1, column: columns[c]! });
      }
      const chunk = builder.push(groupStart + r + 1, row);
      if (chunk) yield chunk;
    }
    groupStart += groupRows;
  }
  const last = builder.flush();
  if (last) yield last;
}
