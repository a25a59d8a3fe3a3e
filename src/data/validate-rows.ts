// The strict validation pass over one data file: rows counted, every requested value
// checked (a number, or for categorical columns any present value), invalid rows counted
// or rejected. CSV goes through the byte-level pass (csv-validate.ts); JSON Lines and
// Parquet, and the reference the CSV pass is tested against, through the readers.
import path from 'node:path';
import { validateCsvFile, type CsvValidation, type SampleRequest } from './csv-validate.ts';
import { DataFileError } from './data-file-error.ts';
import { readTable } from './read-table.ts';
import { presenceEncoding, type CategoryEncoding } from './row-chunk.ts';
import { ValueSampler } from './value-sample.ts';

/**
 * Through the readers (strict): what every format shares. With `sampling`, every row's
 * values are offered to the sample (these readers parse every value anyway).
 */
export async function validateRowsByReader(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject', sampling?: SampleRequest): Promise<CsvValidation> {
  let rowCount = 0;
  let invalidRows = 0;
  const width = columns.length;
  const missing = new Array<number>(width).fill(0);
  const sampler = sampling ? (sampling.into ?? new ValueSampler(columns, categorical)) : undefined;
  // Category values are checked (a string or an integer); validation needs no vocabulary, so
  // they are read as 0, or, for the sample, as an index into the texts seen.
  const texts: string[] = [];
  const ids = new Map<string, number>();
  const categories: CategoryEncoding = sampler
    ? { columns: categorical, encode: (_c, text) => ids.get(text) ?? (ids.set(text, texts.push(text) - 1), texts.length - 1) }
    : presenceEncoding(categorical);
  for await (const chunk of readTable(file, columns, { strict: true, ...(categorical.size ? { categories } : {}) })) {
    rowCount += chunk.rowCount;
    for (let r = 0; r < chunk.rowCount; r++) {
      let counted = false;
      for (let c = 0; c < width; c++) {
        const value = chunk.values[r * width + c]!;
        if (Number.isFinite(value)) {
          sampler?.add(c, categorical.has(c) ? texts[value]! : value);
          continue;
        }
        missing[c]! += 1;
        if (invalidRowsRule === 'reject') throw new DataFileError(file, 'missing, NaN or infinite value', { line: chunk.lines[r]!, column: columns[c]! });
        if (!counted) invalidRows += 1;
        counted = true;
      }
    }
  }
  return { rowCount, invalidRows, missing, ...(sampler && !sampling?.into ? { sample: sampler.toJSON() } : {}) };
}

/** The validation pass for any data file: the byte-level pass for CSV, the readers otherwise. */
export function validateRows(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject', sampling?: SampleRequest): Promise<CsvValidation> {
  return path.extname(file).toLowerCase() === '.csv' ? validateCsvFile(file, columns, categorical, invalidRowsRule, sampling) : validateRowsByReader(file, columns, categorical, invalidRowsRule, sampling);
}
