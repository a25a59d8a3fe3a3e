// The split and the valid rows: every row belongs to the train or the eval split by a hash
// of (partition, file, line) — stable as data grows, so an eval row is never trained on by
// any run of the lineage — and a row with a missing, NaN or infinite value is skipped and
// counted (or rejected, with training.invalidRows: reject).
import { doorFor, readTable, readCrossed, crossedLayout, DataFileError, presenceEncoding, type CategoryEncoding, type RowChunk } from '../../data/index.ts';
import { hashString, mixSeed } from '../../core/rng.ts';
import { RowCache } from './row-cache.ts';
import { ParsedRowsCache } from './parsed-rows-cache.ts';
import { type TrainingPartition, type ColumnSpec, type SplitSpec, type Split, type RowSelection, type RowCounts, categoricalSlots, inputWidth } from './stream-spec.ts';

/** Reads categorical columns as 0 when present (for passes that need only which rows are valid). */
export function presenceOf(columns: ColumnSpec): CategoryEncoding | undefined {
  const first = columns.features.length;
  const slots = categoricalSlots(columns);
  return slots.length === 0 ? undefined : presenceEncoding(new Set(slots.map((_, i) => first + i)));
}

/** The process's parsed rows (one per thread), shared by every pass that has no cache of its own. */
export const parsedRows = new ParsedRowsCache();

export function splitOf(fileHash: number, line: number, split: SplitSpec): Split {
  return mixSeed(fileHash, line, split.seed) / 4294967296 < split.evalFraction ? 'eval' : 'train';
}

/**
 * Columns read beside a row without being part of it (the gate's baselines: an entity, a
 * forecast shipped in the data): not validated, NaN where missing. The `textual` ones (of
 * `names`) are read as text and given ids through `encode`; the rest as numbers. With no
 * names, only each row's partition (the backtest's per-partition scores).
 */
export interface SideColumns {
  names: readonly string[];
  textual: ReadonlySet<number>;
  encode(text: string): number;
}

/** A chunk of valid rows; with side columns, theirs (rows × names.length) and which partition (index into the partitions read) the rows are of. */
export interface ValidRowChunk {
  values: Float64Array;
  rows: number;
  partition: number;
  side?: Float64Array;
}

/** The reader's encoding with the side columns' text read through theirs (logical indices from `width`). */
function withSide(categories: CategoryEncoding | undefined, side: SideColumns | undefined, width: number): CategoryEncoding | undefined {
  if (!side || side.textual.size === 0) return categories;
  const columns = new Set(categories?.columns ?? []);
  for (const j of side.textual) columns.add(width + j);
  return { columns, encode: (column, text) => (column >= width ? side.encode(text) : categories!.encode(column, text)) };
}

/**
 * Streams the valid rows of one split, in partition and file order, as compact chunks:
 * `values` holds, per row, the numeric features, the categorical ids (through `categories`;
 * by default 0 for any present value) then the label (raw, not standardised). The array
 * is reused: consume a chunk before asking for the next.
 * Invalid rows are counted and skipped, or throw (invalidRows: reject) naming file, line, column.
 */
export async function* validRowChunks(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  which: RowSelection,
  counts: RowCounts = { rows: 0, invalid: 0 },
  categories: CategoryEncoding | undefined = presenceOf(columns),
  cache?: RowCache,
  side?: SideColumns,
): AsyncGenerator<ValidRowChunk> {
  const sideWidth = side?.names.length ?? 0;
  const names = [...columns.features, ...categoricalSlots(columns), columns.label];
  const width = names.length;
  const requested = sideWidth ? [...names, ...side!.names] : names;
  const encoding = withSide(categories, side, width);
  // The columns the files hold: crossed ones are made from their sources (readCrossed).
  const crosses = columns.crosses ?? [];
  const physical = [...columns.features, ...columns.categorical, columns.label, ...(side?.names ?? [])];
  const layout = crossedLayout(physical, columns.features.length + columns.categorical.length, crosses);
  let out = new Float64Array(0); // reused: each yielded chunk is consumed before the next
  let sideOut = new Float64Array(0);
  for (const [index, partition] of partitions.entries()) {
    const sample = partition.sample ?? 1;
    for (const name of partition.files) {
      const file = doorFor(partition.dir).join(partition.dir, name);
      const fileHash = hashString(`${partition.path}/${name}`);
      const read = (through = encoding): AsyncIterable<RowChunk> =>
        crosses.length === 0 ? readTable(file, requested, through ? { categories: through } : {}) : readCrossed((reading) => readTable(file, physical, { categories: reading }), layout, through!);
      const readWidth = width + sideWidth;
      const source = cache ? cache.rows(file, requested, () => read()) : keptInMemory(file, `${requested.join('\u0000')}\u0001${JSON.stringify(crosses)}`, encoding, read);
      for await (const chunk of source) {
        if (out.length < chunk.rowCount * width) out = new Float64Array(chunk.rowCount * width);
        if (sideOut.length < chunk.rowCount * sideWidth) sideOut = new Float64Array(chunk.rowCount * sideWidth);
        let kept = 0;
        rows: for (let r = 0; r < chunk.rowCount; r++) {
          const line = chunk.lines[r]!;
          if (which !== 'all' && splitOf(fileHash, line, split) !== which) continue;
          if (sample < 1 && which === 'train' && mixSeed(fileHash, line, split.seed ^ 0x7e91a) / 4294967296 >= sample) continue;
          const base = r * readWidth;
          for (let c = 0; c < width; c++) {
            if (!Number.isFinite(chunk.values[base + c]!)) {
              if (split.invalidRows === 'reject') throw new DataFileError(file, 'missing, NaN or infinite value', { line, column: names[c]! });
              counts.invalid += 1;
              continue rows;
            }
          }
          const label = chunk.values[base + width - 1]!;
          if (columns.task === 'binary' && label !== 0 && label !== 1) {
            if (split.invalidRows === 'reject') throw new DataFileError(file, `binary label must be 0 or 1, found ${label}`, { line, column: columns.label });
            counts.invalid += 1;
            continue;
          }
          out.set(chunk.values.subarray(base, base + width), kept * width);
          if (sideWidth) sideOut.set(chunk.values.subarray(base + width, base + readWidth), kept * sideWidth);
          kept += 1;
        }
        counts.rows += kept;
        if (kept > 0) yield { values: out.subarray(0, kept * width), rows: kept, partition: index, ...(side ? { side: sideOut.subarray(0, kept * sideWidth) } : {}) };
      }
    }
  }
}

/**
 * A local file's chunks through the process's parsed-rows cache (parsed-rows-cache.ts):
 * the passes outside the training stream (validation rows, vocabulary counts, labels, gate
 * rows) read a file parsed once. Files behind another door (s3://) are read as they are:
 * their door keeps local copies, and asking for their size and last change is a request.
 */
async function* keptInMemory(file: string, shape: string, encoding: CategoryEncoding | undefined, read: (through: CategoryEncoding | undefined) => AsyncIterable<RowChunk>): AsyncGenerator<RowChunk> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    yield* read(encoding);
    return;
  }
  const stat = await doorFor(file).stat(file).catch(() => undefined);
  if (!stat) {
    yield* read(encoding); // the reader says what is wrong with the file, as without the cache
    return;
  }
  const { bytes, modifiedMs } = stat;
  const text = encoding?.columns ?? new Set<number>();
  yield* parsedRows.chunks({ location: file, bytes, modifiedMs, shape: `${shape}\u0002${[...text].sort((a, b) => a - b).join(',')}` }, text, encoding, read);
}

/** Calls `onRow` for every valid row of a split (the row array is reused); `false` stops early. */
export async function forEachRow(
  partitions: readonly TrainingPartition[],
  columns: ColumnSpec,
  split: SplitSpec,
  which: RowSelection,
  onRow: (values: Float64Array) => void | false,
  categories?: CategoryEncoding,
): Promise<RowCounts> {
  const counts = { rows: 0, invalid: 0 };
  const width = inputWidth(columns) + 1;
  for await (const chunk of validRowChunks(partitions, columns, split, which, counts, categories ?? presenceOf(columns))) {
    for (let r = 0; r < chunk.rows; r++) {
      if (onRow(chunk.values.subarray(r * width, r * width + width)) === false) return counts;
    }
  }
  return counts;
}
