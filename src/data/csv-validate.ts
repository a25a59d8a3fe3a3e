// The validation pass over a CSV file, on bytes: row counting and the strict check of every
// requested value, without decoding lines into strings or splitting them into arrays.
//
// Why: registration reads every row of a partition (the row count must be exact and a
// non-numeric value must reject it, naming file, line and column). Through the reader's
// string path that ran at 39–45 MB/s, 0.06–0.08× a bare sha256 stream (BENCHMARKS.md),
// so a 1 GB partition took half a minute to register.
//
// Two levels. Runs of ordinary lines (no quote, every requested value a plain number or a
// present category) are matched by a regular expression built from the header, 256 lines
// a test: V8 compiles it to machine code, and the pass runs at 0.6× a bare sha256 stream
// (BENCHMARKS.md). Every other line goes through the byte loop below (`scan`).
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
import { csvColumnIndices, csvFields, csvRowValues } from './csv.ts';
import { DataFileError } from './data-file-error.ts';
import { byteChunksOf } from './lines.ts';
import { isNonNumeric, presenceEncoding } from './row-chunk.ts';
import { BYTE_CLASS, COMMA_CLASS, fastPlainDecimal, PLAIN_ACCEPTS, PLAIN_NEXT, REJECT } from './plain-number.ts';
import { SAMPLE_LINES, type SampledValues, ValueSampler } from './value-sample.ts';

export interface CsvValidation {
  rowCount: number;
  /** Rows with a missing, NaN or infinite value in a requested column. */
  invalidRows: number;
  /** Per requested column: rows where its value is missing, NaN or infinite (exact). */
  missing: number[];
  /** A sample of the requested columns' values, for the partition's statistics (none unless asked for). */
  sample?: SampledValues;
}

/**
 * Ask for a value sample: the partition's size (all its files) sets the byte stride
 * between sampled lines; values go into `into` (the partition's sampler) when given, else
 * into the file's own, returned as `sample`.
 */
export interface SampleRequest {
  bytes: number;
  into?: ValueSampler;
}

const NEWLINE = 10;
const CR = 13;
const NONE = Number.MAX_SAFE_INTEGER;

// The number automaton's byte classes (plain-number.ts: 0 digit, 1 sign, 2 point, 3 e/E,
// 4 comma, 5 anything else), with the bytes that end or mark a line told apart.
const OTHER = 5;
const NEWLINE_CLASS = 6;
const CR_CLASS = 7;
const QUOTE_CLASS = 8;
const LINE_CLASS = Uint8Array.from(BYTE_CLASS, (kind, byte) => (byte === NEWLINE ? NEWLINE_CLASS : byte === CR ? CR_CLASS : byte === 34 ? QUOTE_CLASS : kind));

/**
 * Counts the data rows of a CSV file and checks every value of `columns` strictly, as
 * validateFile does through the reader: throws DataFileError (file, line, column) for a
 * missing column, a field-count mismatch, an unterminated quote, or a value that is not a
 * number; with invalidRows 'reject', also for a missing, NaN or infinite value. Columns in
 * `categorical` only need to be present (any non-empty text).
 *
 * Why one long function: it is the watcher's hot loop (bench:watch, ≈ 326 MB/s here). The
 * byte-class state machine keeps its state in locals of one function, which V8 keeps in
 * registers; split into functions or closures sharing that state, each byte would go
 * through a context slot. The parts are named by comments instead.
 */
export async function validateCsvFile(file: string, columns: readonly string[], categorical: ReadonlySet<number>, invalidRowsRule: 'skip' | 'reject', sampling?: SampleRequest): Promise<CsvValidation> {
  let indices: number[] | undefined; // requested column → field index
  let wanted: Int32Array | undefined; // field index → requested column, or -1
  let width = 0;
  const isCategorical = Uint8Array.from(columns, (_, c) => (categorical.has(c) ? 1 : 0));
  let rowCount = 0;
  let invalidRows = 0;
  // Missing values per column: the fast patterns accept only lines with every requested
  // value present, so only lines that go through `scan` or the reader's path can add here.
  const missing = new Float64Array(columns.length);
  let line = 0;
  const fail = (message: string, where: { line: number; column?: string }): never => {
    throw new DataFileError(file, message, where);
  };

  /** The reader's own path for one line (quotes, or anything the byte path leaves to it). */
  const presence = presenceEncoding(categorical);
  const row = new Float64Array(columns.length);
  const slowLine = (text: string): void => {
    csvRowValues(file, csvFields(file, text, line), width, indices!, columns, line, true, presence, row);
    const bad = row.findIndex((value) => !Number.isFinite(value));
    row.forEach((value, c) => {
      if (!Number.isFinite(value)) missing[c]! += 1;
    });
    countRow(bad < 0 ? undefined : bad);
  };
  const countRow = (bad: number | undefined): void => {
    rowCount += 1;
    if (bad === undefined) return;
    if (invalidRowsRule === 'reject') fail('missing, NaN or infinite value', { line, column: columns[bad]! });
    invalidRows += 1;
  };

  let fastLines: FastLines | undefined;
  const header = (text: string): void => {
    const fields = csvFields(file, text, line);
    width = fields.length;
    indices = csvColumnIndices(file, fields, columns, line);
    wanted = new Int32Array(width).fill(-1);
    indices.forEach((field, c) => (wanted![field] = c));
    fastLines = fastLinePatterns(wanted, isCategorical);
  };

  /**
   * Scans the data lines of bytes[from, …) in one loop — fields, lines, the number grammar —
   * and returns where the last, incomplete line starts. Per-line results are kept until the
   * line's end, so that a line with a quote can be handed whole to the reader's path and
   * the errors come in the reader's order (field count first, then the lowest column).
   */
  const scan = (bytes: Buffer, from: number, to: number): number => {
    const byteClass = LINE_CLASS; // imported bindings are looked up on each use: locals are not
    const next = PLAIN_NEXT;
    const accepts = PLAIN_ACCEPTS;
    const comma = COMMA_CLASS;
    const reject = REJECT;
    const want = wanted!;
    const isCat = isCategorical;
    const fields = width;
    const n = to;
    let lineStart = from;
    let field = 0;
    let fieldStart = from;
    let state = 0;
    let bad = NONE;
    let lineMissing = 0; // requested columns missing on this line, as bits (columns past 31 share the last bit's count below)
    let lineMissingMany: number[] | undefined;
    let notNumber = NONE;
    let notNumberRaw = '';
    let quoted = false;
    let crAt = -1;
    let stateBeforeCr = 0;
    for (let i = from; i < n; i++) {
      const kind = byteClass[bytes[i]!]!;
      if (kind < comma) {
        state = next[(state << 3) | kind]!;
        continue;
      }
      if (kind === OTHER) {
        state = reject;
        continue;
      }
      if (kind === QUOTE_CLASS) {
        quoted = true;
        state = reject;
        continue;
      }
      if (kind === CR_CLASS) {
        stateBeforeCr = state;
        crAt = i;
        state = reject;
        continue;
      }
      // A comma or a newline ends a field; a \r just before the newline is not part of it.
      let fieldEnd = i;
      if (kind === NEWLINE_CLASS && crAt === i - 1) {
        fieldEnd = i - 1;
        state = stateBeforeCr;
      }
      const c = field < fields ? want[field]! : -1;
      if (c >= 0 && !quoted) {
        if (fieldStart === fieldEnd) {
          if (c < bad) bad = c; // missing
          if (c < 31) lineMissing |= 1 << c;
          else (lineMissingMany ??= []).push(c);
        } else if (isCat[c] === 0 && !(accepts[state] === 1 && fieldEnd - fieldStart <= 200)) {
          // Whatever the automaton leaves: exactly as the reader judges it.
          const raw = bytes.toString('utf8', fieldStart, fieldEnd);
          const value = Number(raw);
          if (isNonNumeric(raw, value) && c < notNumber) {
            notNumber = c;
            notNumberRaw = raw;
          }
          if (!Number.isFinite(value)) {
            if (c < bad) bad = c;
            if (c < 31) lineMissing |= 1 << c;
            else (lineMissingMany ??= []).push(c);
          }
        }
      }
      field += 1;
      fieldStart = i + 1;
      state = 0;
      if (kind === comma) continue;
      line += 1;
      const lineEnd = crAt === i - 1 ? i - 1 : i;
      if (lineEnd === lineStart) {
        // a blank line
      } else if (quoted) {
        slowLine(bytes.toString('utf8', lineStart, lineEnd));
      } else {
        if (field !== fields) fail(`expected ${fields} fields as in the header, found ${field}`, { line });
        if (notNumber !== NONE) fail(`not a number: ${JSON.stringify(notNumberRaw.slice(0, 40))}`, { line, column: columns[notNumber]! });
        if (lineMissing !== 0) for (let k = 0; k < 31; k++) if ((lineMissing >>> k) & 1) missing[k]! += 1;
        if (lineMissingMany) for (const k of lineMissingMany) missing[k]! += 1;
        countRow(bad === NONE ? undefined : bad);
      }
      lineStart = i + 1;
      field = 0;
      bad = NONE;
      lineMissing = 0;
      lineMissingMany = undefined;
      notNumber = NONE;
      quoted = false;
      crAt = -1;
    }
    return lineStart;
  };

  /**
   * The data lines of bytes[from, …) up to the last newline: runs of lines the fast
   * patterns accept are counted as valid rows without looking at a byte from JavaScript;
   * every other line goes through `scan`, which judges it exactly. Returns where the last,
   * incomplete line starts.
   */
  const scanFast = (bytes: Buffer, from: number): number => {
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    if (end <= from) return from;
    // latin1: one code unit per byte, so string offsets are byte offsets.
    const text = bytes.toString('latin1', from, end);
    const { block, one } = fastLines!;
    let at = 0;
    while (at < text.length) {
      block.lastIndex = at;
      if (block.test(text)) {
        rowCount += FAST_BLOCK;
        line += FAST_BLOCK;
        at = block.lastIndex;
        continue;
      }
      // The block held a line the patterns leave to `scan`, or fewer lines were left:
      // up to a block's worth of lines one at a time.
      for (let k = 0; k < FAST_BLOCK && at < text.length; k++) {
        one.lastIndex = at;
        if (one.test(text)) {
          rowCount += 1;
          line += 1;
          at = one.lastIndex;
        } else {
          const next = text.indexOf('\n', at) + 1;
          scan(bytes, from + at, from + next);
          at = next;
        }
      }
    }
    if (sampler) sampleLines(bytes, text, from);
    return end;
  };

  /**
   * The value sample: the first line starting at or after every `stride` bytes of the
   * file (every line of a small partition; `stride` spreads SAMPLE_LINES lines over the
   * whole partition). Outside the hot loops: about SAMPLE_LINES lines a partition, however
   * large; their cost is bench:watch's statistics pass.
   */
  const sampler = sampling ? (sampling.into ?? new ValueSampler(columns, categorical)) : undefined;
  const stride = sampling ? Math.max(1, Math.floor(sampling.bytes / SAMPLE_LINES)) : 0;
  let nextSampleAt = 0; // a byte offset in the file
  /** `text`: bytes[from, …) up to a line end, as latin1 (one code unit a byte), which scanFast made anyway. */
  const sampleLines = (bytes: Buffer, text: string, from: number): void => {
    const origin = base + from; // the file offset of text[0]
    while (nextSampleAt < origin + text.length) {
      const at = nextSampleAt - origin;
      const start = at <= 0 ? 0 : text.charCodeAt(at - 1) === NEWLINE ? at : text.indexOf('\n', at) + 1;
      if ((at > 0 && start === 0) || start >= text.length) break;
      const stop = text.indexOf('\n', start);
      sampleLine(bytes, text, from, start, stop > start && text.charCodeAt(stop - 1) === CR ? stop - 1 : stop);
      nextSampleAt = Math.max(nextSampleAt + stride, origin + stop + 1);
    }
    if (nextSampleAt < origin + text.length) nextSampleAt = origin + text.length;
  };
  /** A requested value into the sample: a number (if finite), or a category's text. */
  const sampleValue = (c: number, raw: string): void => {
    if (raw === '') return;
    if (isCategorical[c] === 1) sampler!.add(c, raw);
    else {
      const value = +raw;
      if (Number.isFinite(value)) sampler!.add(c, value);
    }
  };
  /**
   * One sampled line, text[start, end), into the sample. Fields are found comma by comma
   * and only the requested ones are cut out: a number straight from the latin1 text
   * (digits are ASCII), a category's text decoded from the bytes as UTF-8 (a fresh string:
   * a slice of the chunk's text could keep the whole chunk alive as long as the sample). A
   * line with a quote goes through the reader's own splitting. A line with the wrong
   * number of fields may leave values in the sample, but the pass rejects the partition.
   */
  const sampleLine = (bytes: Buffer, text: string, from: number, start: number, end: number): void => {
    if (end === start) return;
    const want = wanted!;
    let quoted = false;
    for (let i = start; i < end && !quoted; i++) quoted = text.charCodeAt(i) === 34; // within the line only
    if (quoted) {
      let fields: string[];
      try {
        fields = csvFields(file, bytes.toString('utf8', from + start, from + end), line);
      } catch {
        return; // the pass rejects this line with its own message
      }
      fields.forEach((raw, field) => field < width && want[field]! >= 0 && sampleValue(want[field]!, raw));
      return;
    }
    let at = start;
    for (let field = 0; field < width; field++) {
      let comma = text.indexOf(',', at);
      if (comma === -1 || comma > end) comma = end;
      const c = want[field]!;
      if (c >= 0 && comma > at) {
        if (isCategorical[c] === 1) sampler!.add(c, bytes.toString('utf8', from + at, from + comma));
        else {
          // Most numbers without a string at all; the rest exactly as the reader reads them.
          const value = fastPlainDecimal(text, at, comma) ?? +text.slice(at, comma);
          if (Number.isFinite(value)) sampler!.add(c, value);
        }
      }
      if (comma === end) return;
      at = comma + 1;
    }
  };

  const headerLine = (bytes: Buffer, end: number): void => {
    line = 1;
    header(bytes.toString('utf8', 0, end > 0 && bytes[end - 1] === CR ? end - 1 : end));
  };
  let carry: Buffer | undefined;
  let base = 0; // the file offset of bytes[0]
  for await (const chunk of byteChunksOf(file, 4 << 20)) {
    const bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    if (!indices) {
      const newline = bytes.indexOf(NEWLINE);
      if (newline === -1) {
        carry = Buffer.from(bytes);
        continue;
      }
      headerLine(bytes, newline);
      start = newline + 1;
    }
    const rest = scanFast(bytes, start);
    // A copy: the reader reuses its buffer for the next chunk.
    carry = rest < bytes.length ? Buffer.from(bytes.subarray(rest)) : undefined;
    base += rest;
  }
  if (carry && carry.length > 0) {
    if (!indices) headerLine(carry, carry.length);
    else {
      const last = Buffer.concat([carry, Buffer.from('\n')]); // the last line has no newline
      scan(last, 0, last.length);
    }
  }
  if (!indices) throw new DataFileError(file, 'empty file: no header row');
  return { rowCount, invalidRows, missing: Array.from(missing), ...(sampler && !sampling?.into ? { sample: sampler.toJSON() } : {}) };
}

/** Lines one test of the block pattern accepts. */
const FAST_BLOCK = 256;

// A requested numeric field the fast pattern accepts: the plain decimal grammar of
// plain-number.ts with at most 200 integer digits, so that Number() of it is finite
// (below 10^(200+99)); longer numbers go to `scan`, which decides as the reader does.
const PLAIN_FIELD = '[+-]?(?:\\d{1,200}(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d\\d?)?';
// A requested categorical field: present. A field nobody asked for: anything without a
// quote (quotes need the reader's rules). Neither holds a \r, so every line has one way
// to match: a \r before the \n could otherwise go to the field or to the line end, and a
// block failing at its last line would backtrack through 2^256 splits. (A \r inside a
// field, or a last field of only the \r of a \r\n, which is missing, go to `scan`.)
const PRESENT_FIELD = '[^,\\r\\n"]+';
const ANY_FIELD = '[^,\\r\\n"]*';

interface FastLines {
  /** FAST_BLOCK lines in a row, each a valid row (sticky). */
  block: RegExp;
  /** One such line (sticky). */
  one: RegExp;
}

/**
 * The fast path's patterns for a header: a line with exactly the header's number of
 * fields, no quote, every requested numeric field plain and finite and every requested
 * categorical field present, ending in \n or \r\n. Such a line is a valid row for `scan`
 * too (the patterns accept a subset of what it accepts: the tests compare both paths on
 * generated and fuzzed files); V8 compiles them to machine code, which runs 3–4× faster
 * than the byte loop in JavaScript (BENCHMARKS.md).
 */
function fastLinePatterns(wanted: Int32Array, isCategorical: Uint8Array): FastLines {
  const fields = Array.from(wanted, (c) => (c < 0 ? ANY_FIELD : isCategorical[c] === 1 ? PRESENT_FIELD : PLAIN_FIELD));
  const line = `${fields.join(',')}\\r?\\n`;
  return { block: new RegExp(`(?:${line}){${FAST_BLOCK}}`, 'y'), one: new RegExp(line, 'y') };
}
