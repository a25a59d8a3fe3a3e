// The columns of a data file and their types, as recorded at registration: from the CSV
// header and first row, the first JSON object, or the Parquet schema.
import fs from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { splitCsvLine } from './csv.ts';
import { DataFileError } from './data-file-error.ts';

export type ColumnTypes = Record<string, string>;

function inferType(value: unknown): string {
  if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))) return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null || value === undefined || value === '') return 'unknown';
  return typeof value === 'string' ? 'string' : 'json';
}

/** The first non-blank lines, from the first 64 KiB (a synchronous read: cheap, and called per file). */
function firstLines(file: string, count: number): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 16);
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, read).toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
    if (read === buffer.length) lines.pop(); // possibly cut short
    return lines.filter((l) => l.trim() !== '').slice(0, count);
  } finally {
    fs.closeSync(fd);
  }
}

export async function tableSchema(file: string): Promise<ColumnTypes> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') {
    const [header, first] = firstLines(file, 2);
    if (header === undefined) return {};
    const names = splitCsvLine(header.replace(/^\uFEFF/, '')).map((n) => n.trim());
    const values = first === undefined ? [] : splitCsvLine(first);
    return Object.fromEntries(names.map((name, i) => [name, inferType(values[i])]));
  }
  if (ext === '.jsonl') {
    const [first] = firstLines(file, 1);
    if (first === undefined) return {};
    try {
      return Object.fromEntries(Object.entries(JSON.parse(first) as Record<string, unknown>).map(([k, v]) => [k, inferType(v)]));
    } catch {
      return {};
    }
  }
  if (ext === '.parquet') {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
    return Object.fromEntries(metadata.schema.slice(1).map((element) => [element.name, String(element.type ?? element.converted_type ?? 'group').toLowerCase()]));
  }
  if (!fs.existsSync(file)) throw new DataFileError(file, 'does not exist');
  return {};
}
