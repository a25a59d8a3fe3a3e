// The columns of a data file and their types, as recorded at registration: from the CSV
// header and first row, the first JSON object, or the Parquet schema.
import path from 'node:path';
import { parquetMetadataAsync } from 'hyparquet';
import { splitCsvLine } from './csv.ts';
import { DataFileError } from './data-file-error.ts';
import { doorFor } from './file-door.ts';
import { parquetBuffer } from './parquet.ts';

export type ColumnTypes = Record<string, string>;

function inferType(value: unknown): string {
  if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))) return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null || value === undefined || value === '') return 'unknown';
  return typeof value === 'string' ? 'string' : 'json';
}

const SNIFF_BYTES = 1 << 16;

/** The first non-blank lines, from the first 64 KiB (one range read through the door). */
async function firstLines(file: string, count: number): Promise<string[]> {
  const bytes = Buffer.from(await doorFor(file).range(file, 0, SNIFF_BYTES));
  const lines = bytes.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  if (bytes.length === SNIFF_BYTES) lines.pop(); // possibly cut short
  return lines.filter((l) => l.trim() !== '').slice(0, count);
}

export async function tableSchema(file: string): Promise<ColumnTypes> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') {
    const [header, first] = await firstLines(file, 2);
    if (header === undefined) return {};
    const names = splitCsvLine(header.replace(/^\uFEFF/, '')).map((n) => n.trim());
    const values = first === undefined ? [] : splitCsvLine(first);
    return Object.fromEntries(names.map((name, i) => [name, inferType(values[i])]));
  }
  if (ext === '.jsonl') {
    const [first] = await firstLines(file, 1);
    if (first === undefined) return {};
    try {
      return Object.fromEntries(Object.entries(JSON.parse(first) as Record<string, unknown>).map(([k, v]) => [k, inferType(v)]));
    } catch {
      return {};
    }
  }
  if (ext === '.parquet') {
    const metadata = await parquetMetadataAsync(await parquetBuffer(file));
    return Object.fromEntries(metadata.schema.slice(1).map((element) => [element.name, String(element.type ?? element.converted_type ?? 'group').toLowerCase()]));
  }
  try {
    await doorFor(file).stat(file);
  } catch {
    throw new DataFileError(file, 'does not exist');
  }
  return {};
}
