// The validation pass over a CSV file, on bytes: row counting and the strict check of every
// requested value, without decoding lines into strings or splitting them into arrays.
//
// Why: registration reads every row of a partition (the row count must be exact and a
// non-numeric value must reject it, naming file, line and column). Through the reader's
// string path that ran at 39–45 MB/s, 0.06–0.08× a bare sha256 stream (BENCHMARKS.md),
// so a 1 GB partition took half a minute to register.
//
// Same answers as the reader's path (readCsv + the strict check), by construction: a
// field the byte grammar accepts — [+-]digits[.digits][e[+-]d[d]], ASCII, at most 200
// bytes, which Number() always parses to a finite value (below 10^299) — is valid; an empty field is missing; every other field (whitespace, NaN
// spellings, Infinity, hex, fractions with many digits, non-ASCII) and every line with a
// quote goes through the reader's own functions (splitCsvLine, Number, isNonNumeric). A
// test compares both paths on generated and fuzzed files. One difference, deliberate: with
// invalidRows reject, the first problem by line is reported, where the reader path first
// parsed its whole 4,096-row chunk (reporting a later line's parse error) before it
// looked for missing values.
import { splitCsvLine } from './csv.ts';
import { DataFileError } from './data-file-error.ts';
import { byteChunksOf } from './lines.ts';
import { isNonNumeric } from './row-chunk.ts';
import { BYTE_CLASS, COMMA_CLASS, PLAIN_ACCEPTS, PLAIN_NEXT } from './plain-number.ts';

export interface CsvValidation {
  rowCount: number;
  /** Rows with a missing, NaN or infinite value in a requested column. */
  invalidRows: number;
}

const QUOTE = 34;
const NEWLINE = 10;
const CR = 13;

/**
 * Counts the data rows of a CSV file and checks every value of `columns` strictly, as
 * validateFile does through the reader: throws DataFileError (file, line, column) for a
 * missing column, a field-count mismatch, an unterminated quote, or a value that is not a
 * number; with invalidRows 'reject', also for a missing, NaN or infinite value. Columns in
 * `categorical` only need to be present (any non-empty text).
 */
export async function validateCsvFile(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject'): Promise<CsvValidation> {
  let indices: number[] | undefined; // requested column → field index
  let wanted: Int32Array | undefined; // field index → requested column, or -1
  let width = 0;
  const isCategorical = Uint8Array.from(columns, (_, c) => (categorical.has(c) ? 1 : 0));
  let rowCount = 0;
  let invalidRows = 0;
  let line = 0;
  const fail = (message: string, where: { line: number; column?: string }): never => {
    throw new DataFileError(file, message, where);
  };

  /** The reader's own path for one line (quotes, or anything the byte path leaves to it). */
  const slowLine = (text: string): void => {
    let fields: string[];
    try {
      fields = splitCsvLine(text);
    } catch (error) {
      return fail((error as Error).message, { line });
    }
    if (fields.length !== width) return fail(`expected ${width} fields as in the header, found ${fields.length}`, { line });
    let bad: number | undefined;
    for (let c = 0; c < indices!.length; c++) {
      const raw = fields[indices![c]!]!;
      const value = categorical.has(c) ? (raw === '' ? Number.NaN : 0) : raw === '' ? Number.NaN : Number(raw);
      if (!categorical.has(c) && isNonNumeric(raw, value)) fail(`not a number: ${JSON.stringify(raw.slice(0, 40))}`, { line, column: columns[c]! });
      if (!Number.isFinite(value) && bad === undefined) bad = c;
    }
    countRow(bad);
  };
  const countRow = (bad: number | undefined): void => {
    rowCount += 1;
    if (bad === undefined) return;
    if (invalidRowsRule === 'reject') fail('missing, NaN or infinite value', { line, column: columns[bad]! });
    invalidRows += 1;
  };

  const header = (text: string): void => {
    let fields: string[];
    try {
      fields = splitCsvLine(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      return fail((error as Error).message, { line });
    }
    const names = fields.map((f) => f.trim());
    width = names.length;
    indices = columns.map((column) => {
      const index = names.indexOf(column);
      if (index < 0) fail(`missing column "${column}" (header has: ${names.join(', ')})`, { line });
      return index;
    });
    wanted = new Int32Array(width).fill(-1);
    indices.forEach((field, c) => (wanted![field] = c));
  };

  let quoteIn: Buffer | undefined;
  let quoteAt = -1;
  const dataLine = (bytes: Buffer, start: number, end: number): void => {
    if (start === end) return; // a blank line
    // The next quote in this buffer, found once and reused line after line (searching from
    // each line's start to the buffer's end would make the pass quadratic).
    if (quoteIn !== bytes || (quoteAt !== -1 && quoteAt < start)) {
      quoteIn = bytes;
      quoteAt = bytes.indexOf(QUOTE, start);
    }
    if (quoteAt !== -1 && quoteAt < end) return slowLine(bytes.toString('utf8', start, end));
    // The reader checks the field count first, then the requested columns in their order:
    // the first (lowest) requested column that is not a number, then the first that is
    // missing or not finite. So both are kept as the lowest column index seen, and thrown after the count.
    // One pass over the bytes: each field's bytes run through the plain-number automaton
    // (PLAIN_NEXT) as they are seen; a comma ends the field.
    let field = 0;
    let fieldStart = start;
    let bad = Number.MAX_SAFE_INTEGER;
    let notNumber = Number.MAX_SAFE_INTEGER;
    let notNumberRaw = '';
    let state = 0;
    // Locals, not the closure's variables: read on every byte.
    const want = wanted!;
    const isCat = isCategorical;
    const fields = width;
    const byteClass = BYTE_CLASS; // imported bindings are looked up on each use: locals are not
    const next = PLAIN_NEXT;
    for (let i = start; i <= end; i++) {
      const kind = i < end ? byteClass[bytes[i]!]! : COMMA_CLASS;
      if (kind !== COMMA_CLASS) {
        state = next[(state << 3) | kind]!;
        continue;
      }
      const c = field < fields ? want[field]! : -1;
      if (c >= 0) {
        if (fieldStart === i) {
          if (c < bad) bad = c; // missing
        } else if (isCat[c] === 0 && !(PLAIN_ACCEPTS[state] === 1 && i - fieldStart <= 200)) {
          // Whatever the automaton leaves: exactly as the reader judges it.
          const raw = bytes.toString('utf8', fieldStart, i);
          const value = Number(raw);
          if (isNonNumeric(raw, value) && c < notNumber) {
            notNumber = c;
            notNumberRaw = raw;
          }
          if (!Number.isFinite(value) && c < bad) bad = c;
        }
      }
      field += 1;
      fieldStart = i + 1;
      state = 0;
    }
    if (field !== width) fail(`expected ${width} fields as in the header, found ${field}`, { line });
    if (notNumber !== Number.MAX_SAFE_INTEGER) fail(`not a number: ${JSON.stringify(notNumberRaw.slice(0, 40))}`, { line, column: columns[notNumber]! });
    countRow(bad === Number.MAX_SAFE_INTEGER ? undefined : bad);
  };

  const onLine = (bytes: Buffer, start: number, end: number): void => {
    line += 1;
    if (end > start && bytes[end - 1] === CR) end -= 1;
    if (!indices) return header(bytes.toString('utf8', start, end));
    dataLine(bytes, start, end);
  };

  let carry: Buffer | undefined;
  for await (const chunk of byteChunksOf(file)) {
    const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE, start); newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
      onLine(bytes, start, newline);
      start = newline + 1;
    }
    // A copy: the reader reuses its buffer for the next chunk.
    carry = start < bytes.length ? Buffer.from(bytes.subarray(start)) : undefined;
  }
  if (carry && carry.length > 0) onLine(carry, 0, carry.length);
  if (!indices) throw new DataFileError(file, 'empty file: no header row');
  return { rowCount, invalidRows };
}
