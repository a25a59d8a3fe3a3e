// Parsed rows of data files kept in memory for the process's next pass over the same file.
//
// Why: one retrain job reads its fresh partitions four times outside the training stream
// (the validation rows that score the base candidates, the vocabulary growth, the labels of
// the training window for the naive baselines, and the gate's rows), its replayed ones
// again on every later retrain, and a backtest reads each step's partitions once more to
// score them before they arrive. Parsing CSV (splitting lines, numbers, crossing columns)
// was about 10 % of a flights backtest on the main thread, most of it parsing the same
// files again (BENCHMARKS.md › Retrains three times faster).
//
// What is kept: a file's chunks exactly as the reader yields them (values, line numbers,
// chunking), keyed by the file's location, size and last change and by what was asked of
// it (columns, which of them are text, crosses). Text values are kept as ids into one
// table of the texts seen, and handed to each reader through its own encoding, in row
// order, so a reader sees the same numbers, ids and errors as from the file. Only a file
// read to its end is kept (a reader that stops early, or a file that fails, keeps nothing).
// Bounded: at most PARSED_ROWS_CACHE_BYTES (least recently used first out), and everything
// is dropped after IDLE_MS without a read, so an idle daemon does not hold its last job's
// rows. 64 MiB holds a flights backtest's working set (a step's passes ≈ 30 MB, a first
// model's 31 days ≈ 55 MB); what it costs is measured by bench:train's peak RSS at 16× the
// data (BENCHMARKS.md). The training stream has its own cache (row-cache.ts, on disk, per run).
import type { CategoryEncoding, RowChunk } from '../../data/index.ts';

export const PARSED_ROWS_CACHE_BYTES = 64 * 1024 * 1024;
const IDLE_MS = 10 * 60 * 1000;
/** Distinct texts past which the table and every entry are dropped at the next read (high-cardinality text columns). */
const MAX_TEXTS = 1_000_000;

interface TextTable {
  texts: string[];
  ids: Map<string, number>;
}

function textId(table: TextTable, text: string): number {
  let id = table.ids.get(text);
  if (id === undefined) {
    id = table.texts.length;
    table.ids.set(text, id);
    table.texts.push(text);
  }
  return id;
}

interface StoredChunk {
  values: Float64Array;
  lines: Int32Array;
  rowCount: number;
}

export interface ParsedFileKey {
  location: string;
  bytes: number;
  modifiedMs: number;
  /** What the reader asks for: its columns, which are text, and its crosses. */
  shape: string;
}

export class ParsedRowsCache {
  readonly #limit: number;
  /** Insertion order is recency: a hit moves its entry to the end. */
  readonly #entries = new Map<string, { chunks: StoredChunk[]; bytes: number }>();
  #bytes = 0;
  /** The texts the kept chunks' ids stand for; replaced (never emptied in place) by clear(), so a read under way keeps its own. */
  #table: TextTable = { texts: [], ids: new Map() };
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(limitBytes = PARSED_ROWS_CACHE_BYTES) {
    this.#limit = limitBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The file's chunks through `encoding`: from memory when this file (same size and last
   * change) was read whole with the same shape, else from `read` (given the cache's own
   * encoding of text columns), kept if read to its end. Chunks are valid until the next.
   */
  async *chunks(key: ParsedFileKey, textColumns: ReadonlySet<number>, encoding: CategoryEncoding | undefined, read: (canonical: CategoryEncoding | undefined) => AsyncIterable<RowChunk>): AsyncGenerator<RowChunk> {
    this.#touch();
    const id = `${key.location}\u0000${key.bytes}\u0000${key.modifiedMs}\u0000${key.shape}`;
    const hit = this.#entries.get(id);
    if (hit) {
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      const translate = translator(textColumns, encoding, this.#table.texts);
      for (const stored of hit.chunks) yield translate(stored);
      return;
    }
    if (this.#table.ids.size > MAX_TEXTS) this.clear();
    const table = this.#table;
    const translate = translator(textColumns, encoding, table.texts);
    const canonical: CategoryEncoding | undefined = textColumns.size === 0 ? undefined : { columns: textColumns, encode: (_column, text) => textId(table, text) };
    const kept: StoredChunk[] = [];
    let bytes = 0;
    for await (const chunk of read(canonical)) {
      const stored = { values: chunk.values.slice(), lines: chunk.lines.slice(), rowCount: chunk.rowCount };
      bytes += stored.values.byteLength + stored.lines.byteLength;
      if (bytes <= this.#limit) kept.push(stored);
      yield translate(stored);
    }
    // Kept only if the table its ids refer to is still the cache's (no clear() while it was read).
    if (bytes <= this.#limit && table === this.#table) this.#add(id, kept, bytes);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
    this.#table = { texts: [], ids: new Map() };
  }

  #add(id: string, chunks: StoredChunk[], bytes: number): void {
    this.#entries.set(id, { chunks, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#limit) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  /** Restarts the idle clock: IDLE_MS after the last read, everything goes (an unref'd timer: it never keeps the process alive). */
  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.clear(), IDLE_MS);
    this.#idleTimer.unref();
  }
}

/**
 * Stored chunks as a reader with `encoding` would have read them: each text column's
 * table id turned into the reader's own (its encode called in row order, once per distinct
 * text, as parsing would have), into one reused array. Without text columns, the stored
 * arrays themselves (callers read, never write, a chunk).
 */
function translator(textColumns: ReadonlySet<number>, encoding: CategoryEncoding | undefined, texts: readonly string[]): (stored: StoredChunk) => RowChunk {
  if (textColumns.size === 0 || !encoding) return (stored) => stored;
  const columns = [...textColumns];
  const memo = columns.map(() => new Map<number, number>());
  let out = new Float64Array(0);
  return (stored) => {
    if (out.length < stored.values.length) out = new Float64Array(stored.values.length);
    const values = out.subarray(0, stored.values.length);
    values.set(stored.values);
    const width = stored.values.length / stored.rowCount;
    // Row by row, then column by column: the order parsing calls encode in (a table that numbers texts as they come gives the same numbers).
    for (let row = 0; row < stored.values.length; row += width) {
      for (let k = 0; k < columns.length; k++) {
        const at = row + columns[k]!;
        const canonical = values[at]!;
        if (Number.isNaN(canonical)) continue; // missing: NaN for every encoding
        const ids = memo[k]!;
        let id = ids.get(canonical);
        if (id === undefined) ids.set(canonical, (id = encoding.encode(columns[k]!, texts[canonical]!)));
        values[at] = id;
      }
    }
    return { values, lines: stored.lines, rowCount: stored.rowCount };
  };
}
