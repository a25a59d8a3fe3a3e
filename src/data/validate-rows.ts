// The strict validation pass over one data file: rows counted, every requested value
// checked (a number, or for categorical columns any present value), invalid rows counted
// or rejected. CSV goes through the byte-level pass (csv-validate.ts); JSON Lines and
// Parquet, and the reference the CSV pass is tested against, through the readers.
import path from 'node:path';
import { validateCsvFile, type CsvValidation } from './csv-validate.ts';
import { DataFileError } from './data-file-error.ts';
import { readTable } from './read-table.ts';
import { presenceEncoding } from './row-chunk.ts';

/** Through the readers (strict): what every format shares. */
export async function validateRowsByReader(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject'): Promise<CsvValidation> {
  let rowCount = 0;
  let invalidRows = 0;
  const width = columns.length;
  // Category values are checked (a string or an integer) and read as 0: validation needs no vocabulary.
  for await (const chunk of readTable(file, columns, { strict: true, ...(categorical.size ? { categories: presenceEncoding(categorical) } : {}) })) {
    rowCount += chunk.rowCount;
    for (let r = 0; r < chunk.rowCount; r++) {
      for (let c = 0; c < width; c++) {
        if (Number.isFinite(chunk.values[r * width + c]!)) continue;
        if (invalidRowsRule === 'reject') throw new DataFileError(file, 'missing, NaN or infinite value', { line: chunk.lines[r]!, column: columns[c]! });
        invalidRows += 1;
        break;
      }
    }
  }
  return { rowCount, invalidRows };
}

/** The validation pass for any data file: the byte-level pass for CSV, the readers otherwise. */
export function validateRows(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject'): Promise<CsvValidation> {
  return path.extname(file).toLowerCase() === '.csv' ? validateCsvFile(file, columns, categorical, invalidRowsRule) : validateRowsByReader(file, columns, categorical, invalidRowsRule);
}
