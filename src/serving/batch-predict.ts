// Batch scoring from raw rows: a data file, or a partition folder (its data files in name
// order), read with the same readers as training (CSV, JSON Lines, Parquet), scored by an
// export's Predictor, written as CSV or JSON Lines. Each output row carries a key (the
// --id column's value, else the file and line) and the prediction. A row with a bad value
// is reported by file, line and field, and the others are still scored.
import path from 'node:path';
import { crossedLayout, crossName, DataFileError, doorFor, isDataFile, readCrossed, readTable, type CategoryEncoding } from '../data/index.ts';
import type { Predictor } from './predictor.ts';

export interface BatchPredictOptions {
  input: string;
  /** Column whose value is copied to each output row (read as text). */
  idColumn?: string | undefined;
  format: 'csv' | 'jsonl';
  write: (text: string) => void;
  /** Called for each rejected row. */
  onBadRow?: (error: { file: string; line: number; field: string; message: string }) => void;
}

export interface BatchPredictSummary {
  files: number;
  scored: number;
  rejected: number;
  seconds: number;
  /** Per categorical (or crossed) column: values in the rows read that the model never saw in training. */
  unseen: Record<string, number>;
}

/** The data files of an input, through the door for its location: the file itself, or a folder's data files in name order. */
export async function inputFiles(input: string): Promise<string[]> {
  const door = doorFor(input);
  let entries;
  try {
    entries = await door.list(input);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTDIR') return [input];
    if (code === 'ENOENT') throw new DataFileError(input, 'does not exist');
    throw error;
  }
  const files = entries.filter((e) => e.kind === 'file' && isDataFile(e.name)).map((e) => e.name).sort().map((name) => door.join(input, name));
  if (files.length === 0) throw new DataFileError(input, 'holds no data files (.csv, .jsonl, .parquet)');
  return files;
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export async function batchPredict(predictor: Predictor, options: BatchPredictOptions): Promise<BatchPredictSummary> {
  const started = performance.now();
  const files = await inputFiles(options.input);
  const { features, categorical, crosses } = predictor;
  const width = predictor.width;
  const idSlot = options.idColumn === undefined ? -1 : width;
  // The files' columns, and the row as the model reads it (crossed columns made from theirs).
  const physical = [...features, ...categorical, ...(options.idColumn !== undefined ? [options.idColumn] : [])];
  const columns = [...features, ...categorical, ...crosses.map(crossName), ...(options.idColumn !== undefined ? [options.idColumn] : [])];
  const layout = crossedLayout(physical, features.length + categorical.length, crosses);
  const keyNames = options.idColumn !== undefined ? [options.idColumn] : files.length > 1 ? ['file', 'line'] : ['line'];
  if (options.format === 'csv') options.write(`${[...keyNames, 'prediction'].map(csvField).join(',')}\n`);
  let scored = 0;
  let rejected = 0;
  const unseen: Record<string, number> = {};
  const categoryNames = predictor.categoryColumns;
  for (const file of files) {
    // Ids (and the id column's text) are written into the row by the reader.
    const ids: string[] = [];
    const categories: CategoryEncoding = {
      columns: new Set([...Array.from({ length: width - features.length }, (_, k) => features.length + k), ...(idSlot >= 0 ? [idSlot] : [])]),
      encode: (column, text) => {
        if (column === idSlot) return ids.push(text) - 1;
        const k = column - features.length;
        const id = predictor.categoryId(k, text);
        if (predictor.isUnseen(k, id)) unseen[categoryNames[k]!] = (unseen[categoryNames[k]!] ?? 0) + 1;
        return id;
      },
    };
    const x = new Float32Array(4096 * width);
    // A line that cannot be read at all (a short row, broken JSON) is reported and skipped like a bad value.
    const onBadRow = (error: DataFileError): void => {
      rejected += 1;
      options.onBadRow?.({ file, line: error.line ?? 0, field: error.column ?? '', message: error.detail });
    };
    const chunks = crosses.length === 0 ? readTable(file, columns, { categories, onBadRow }) : readCrossed((encoding) => readTable(file, physical, { categories: encoding, onBadRow }), layout, categories);
    for await (const chunk of chunks) {
      const keys: string[][] = [];
      let rows = 0;
      rows: for (let r = 0; r < chunk.rowCount; r++) {
        const base = r * columns.length;
        const line = chunk.lines[r]!;
        for (let c = 0; c < width; c++) {
          if (Number.isFinite(chunk.values[base + c]!)) continue;
          rejected += 1;
          const numeric = c < features.length;
          options.onBadRow?.({ file, line, field: columns[c]!, message: numeric ? 'missing or not a number' : 'missing or not a category value' });
          continue rows;
        }
        x.set(chunk.values.subarray(base, base + width), rows * width);
        const id = idSlot >= 0 ? chunk.values[base + idSlot]! : Number.NaN;
        keys.push(options.idColumn !== undefined ? [Number.isNaN(id) ? '' : ids[id]!] : files.length > 1 ? [path.basename(file), String(line)] : [String(line)]);
        rows += 1;
      }
      const predictions = predictor.predictMatrix(x, rows);
      let out = '';
      for (let r = 0; r < rows; r++) {
        out +=
          options.format === 'csv'
            ? `${keys[r]!.map(csvField).join(',')},${predictions[r]}\n`
            : `${JSON.stringify(Object.fromEntries([...keyNames.map((k, i) => [k, k === 'line' ? Number(keys[r]![i]) : keys[r]![i]]), ['prediction', predictions[r]]]))}\n`;
      }
      options.write(out);
      scored += rows;
      ids.length = 0;
    }
  }
  return { files: files.length, scored, rejected, seconds: (performance.now() - started) / 1000, unseen };
}
