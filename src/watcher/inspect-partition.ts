// Looking at a partition directory without changing anything in it: its data files, one
// sha256 over them (streamed, never a whole file in memory), and validation against the
// configured columns. Hashing comes first and is cheap: content already registered is a
// no-op without the (slower) validation pass.
import crypto from 'node:crypto';
import { DataFileError, doorFor, isDataFile, summarizePartition, tableSchema, validateRows, ValueSampler, type PartitionStats, type SampledValues } from '../data/index.ts';
import { parquetTimeLimitMs, validateFileIsolated } from './isolated-validation.ts';

/** A content file whose size changed while it was hashed: it is still being written (the partition is looked at again later). */
export class FileChangedWhileReadError extends Error {
  override name = 'FileChangedWhileReadError';
  readonly file: string;
  constructor(file: string, before: number, after: number) {
    super(`${file} changed while it was read (${before} → ${after} bytes)`);
    this.file = file;
  }
}

export interface PartitionFileInfo {
  name: string;
  bytes: number;
}

export interface PartitionContent {
  /** Data files (and files of unknown type), sorted by name. Marker and hidden files are not content. */
  files: PartitionFileInfo[];
  /** sha256 over every content file's name, size and bytes, in name order. */
  sha256: string;
}

/** Files that are not content: the marker, and Hadoop/Spark bookkeeping (`_committed_…`, `.part.crc`). */
export function isBookkeeping(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/** Lists the content files of a partition directory, through the door (not descending into sub-partitions). */
export async function listContentFiles(dir: string): Promise<PartitionFileInfo[]> {
  const out: PartitionFileInfo[] = [];
  for (const entry of await doorFor(dir).list(dir)) {
    if (isBookkeeping(entry.name)) continue;
    if (entry.kind !== 'file') continue; // sub-directories are partitions of their own; symlinks are checked by the scanner
    out.push({ name: entry.name, bytes: entry.bytes });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** One streaming pass: the content hash (rows are counted by validation). Throws ENOENT if the directory vanishes. */
export async function hashPartition(dir: string): Promise<PartitionContent> {
  const files = await listContentFiles(dir);
  const door = doorFor(dir);
  const hash = crypto.createHash('sha256');
  for (const file of files) {
    hash.update(`${file.name}\0${file.bytes}\0`);
    let bytes = 0;
    const full = door.join(dir, file.name);
    // Through the door: small files in one read; large ones in 1 MiB chunks (never whole in memory).
    for await (const chunk of door.chunks(full, 1 << 20)) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    // A file that changed size while we read it is still being written.
    if (bytes !== file.bytes) throw new FileChangedWhileReadError(full, file.bytes, bytes);
  }
  return { files, sha256: hash.digest('hex') };
}

export interface ValidationRules {
  /** Columns that must exist and hold numbers (features then label); empty: only readability is checked. */
  numericColumns: readonly string[];
  /** Columns that must exist and hold category values (strings or integers). */
  categoricalColumns?: readonly string[];
  /** reject: a missing, NaN or infinite value rejects the partition; skip: it is counted and left to the trainer. */
  invalidRows: 'skip' | 'reject';
  /** Time limit for decoding one Parquet file, in seconds (plus one per MB); default 60. */
  parquetTimeLimitSeconds?: number;
  /** Compute the partition's statistics in the same pass (default true). */
  statistics?: boolean;
}

export interface ValidationResult {
  /** Rows in all data files. */
  rowCount: number;
  /** Rows with a missing, NaN or infinite value in a numeric column. */
  invalidRows: number;
  schema: Record<string, string>;
  /** The partition's statistics (data/partition-stats.ts), unless `statistics: false`. */
  stats?: PartitionStats;
  /** The value sample they were computed from: the schema check reads it too. */
  sample?: SampledValues;
}

/**
 * Validates every data file. Throws DataFileError (file, line, column) for anything that
 * rejects the partition: unknown file type, unreadable or truncated file, missing column,
 * non-numeric value, no rows; and with invalidRows: reject, a missing/NaN/infinite value.
 */
export interface FileValidation {
  rowCount: number;
  invalidRows: number;
  schema: Record<string, string>;
  missing: number[];
  sample?: SampledValues;
}

/** Reads every row of one data file, strictly: counts rows and invalid rows, learns the schema. */
/**
 * `partitionBytes`: the size of the whole partition, over which the value sample is
 * spread; `into`: the partition's sampler (else the file's own sample is returned).
 */
export async function validateFile(file: string, rules: ValidationRules, partitionBytes = 0, into?: ValueSampler): Promise<FileValidation> {
  const schema = await tableSchema(file).catch(() => ({}));
  const columns = requestedColumns(rules);
  const counts = await validateRows(file, columns, categoricalIndices(rules), rules.invalidRows, rules.statistics === false ? undefined : { bytes: partitionBytes, ...(into ? { into } : {}) });
  return { ...counts, schema };
}

function categoricalIndices(rules: ValidationRules): Set<number> {
  return new Set((rules.categoricalColumns ?? []).map((_, i) => rules.numericColumns.length + i));
}

/** The columns a partition is validated on, in the order of every per-column array: numeric (features, label), then categorical. */
function requestedColumns(rules: ValidationRules): string[] {
  return [...rules.numericColumns, ...(rules.categoricalColumns ?? [])];
}

export async function validatePartition(dir: string, files: readonly PartitionFileInfo[], rules: ValidationRules): Promise<ValidationResult> {
  if (files.length === 0) throw new DataFileError(dir, 'empty partition: no data files');
  let rowCount = 0;
  let invalidRows = 0;
  const schema: Record<string, string> = {};
  const columns = requestedColumns(rules);
  const missing = new Array<number>(columns.length).fill(0);
  const sampler = rules.statistics === false ? undefined : new ValueSampler(columns, categoricalIndices(rules));
  const partitionBytes = files.reduce((n, f) => n + f.bytes, 0);
  for (const { name, bytes } of files) {
    const file = doorFor(dir).join(dir, name);
    if (!isDataFile(name)) throw new DataFileError(file, 'unknown file type (expected .csv, .jsonl or .parquet)');
    // Parquet is decoded by a third-party library, which a damaged file can send into a
    // loop (seen in fuzzing); on a worker thread with a time limit it cannot hang freshet.
    const result = name.endsWith('.parquet') ? await validateFileIsolated(file, rules, partitionBytes, parquetTimeLimitMs(bytes, rules.parquetTimeLimitSeconds ?? 60)) : await validateFile(file, rules, partitionBytes, sampler);
    rowCount += result.rowCount;
    invalidRows += result.invalidRows;
    result.missing.forEach((n, c) => (missing[c]! += n));
    if (result.sample) sampler?.absorb(result.sample);
    Object.assign(schema, result.schema);
  }
  if (rowCount === 0) throw new DataFileError(dir, 'empty partition: the data files hold no rows');
  if (!sampler) return { rowCount, invalidRows, schema };
  const sample = sampler.toJSON();
  return { rowCount, invalidRows, schema, sample, stats: summarizePartition(rowCount, missing, sample, new Set(rules.categoricalColumns ?? [])) };
}
