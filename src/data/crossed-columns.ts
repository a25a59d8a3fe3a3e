// Crossed columns (the Feature Cross pattern of Lakshmanan et al.): a categorical column
// whose value joins the values of two or more categorical columns of the same row, e.g.
// origin × departure hour = `ATL×17`. It gets its own vocabulary and embedding, so a
// model learns each combination directly instead of having to find the interaction.
//
// Why in freshet and not in the data: the crossed value is a pure function of columns the
// partitions already hold, and the export's consumers send the same raw columns as before
// (freshet predict and POST /v1/predict cross them too; the export's metadata says how).
//
// Readers know nothing of crosses: readCrossed() asks a reader for the physical columns,
// taking every categorical cell as text (an index into a per-chunk table of texts), and
// then builds the rows of the logical layout — the crossed slots inserted at one position,
// each categorical and crossed value through the caller's encoding.
import type { CategoryEncoding, RowChunk } from './row-chunk.ts';

/** Joins the values of a crossed column's sources, and names the column from theirs. */
export const CROSS_SEPARATOR = '×';

/** A crossed column's name: its sources' names joined by ×. */
export function crossName(sources: readonly string[]): string {
  return sources.join(CROSS_SEPARATOR);
}

/** A crossed column's value in a row: its sources' values (as text) joined by ×. */
export function crossValue(texts: readonly string[]): string {
  return texts.join(CROSS_SEPARATOR);
}

export interface CrossedLayout {
  /** Columns the reader yields. */
  physicalWidth: number;
  /** Physical index before which the crossed slots go in the logical row. */
  insertAt: number;
  /** Per crossed column, the physical indices of its sources. */
  crosses: ReadonlyArray<readonly number[]>;
}

/** The layout for a reader of `physical` columns, the crossed slots going before `insertAt`; sources named. */
export function crossedLayout(physical: readonly string[], insertAt: number, crosses: ReadonlyArray<readonly string[]>): CrossedLayout {
  return { physicalWidth: physical.length, insertAt, crosses: crosses.map((sources) => sources.map((source) => physical.indexOf(source))) };
}

/**
 * Rows of the logical layout from a reader of the physical columns. `categories` is in
 * logical indices and must cover every crossed slot; sources must be among its columns.
 * A crossed value is missing (NaN) when any of its sources is.
 */
export async function* readCrossed(read: (categories: CategoryEncoding) => AsyncIterable<RowChunk>, layout: CrossedLayout, categories: CategoryEncoding): AsyncGenerator<RowChunk> {
  const { physicalWidth, insertAt, crosses } = layout;
  const width = physicalWidth + crosses.length;
  const logical = (p: number): number => (p < insertAt ? p : p + crosses.length);
  const textual = new Set<number>();
  for (let p = 0; p < physicalWidth; p++) if (categories.columns.has(logical(p))) textual.add(p);
  for (const sources of crosses) for (const p of sources) if (!textual.has(p)) throw new Error(`a crossed column's source (column ${p}) must be read as a category`);
  // The texts of the categorical cells read since the last chunk: a reader encodes a
  // chunk's rows before it yields the chunk, so each chunk's indices point into this.
  const texts: string[] = [];
  const reading: CategoryEncoding = { columns: textual, encode: (_column, text) => texts.push(text) - 1 };
  let values = new Float64Array(0);
  const parts: string[] = [];
  for await (const chunk of read(reading)) {
    if (values.length < chunk.rowCount * width) values = new Float64Array(chunk.rowCount * width);
    for (let r = 0; r < chunk.rowCount; r++) {
      const from = r * physicalWidth;
      const to = r * width;
      for (let p = 0; p < physicalWidth; p++) {
        const value = chunk.values[from + p]!;
        const o = logical(p);
        values[to + o] = textual.has(p) && !Number.isNaN(value) ? categories.encode(o, texts[value]!) : value;
      }
      for (let j = 0; j < crosses.length; j++) {
        parts.length = 0;
        for (const p of crosses[j]!) {
          const index = chunk.values[from + p]!;
          if (Number.isNaN(index)) break;
          parts.push(texts[index]!);
        }
        values[to + insertAt + j] = parts.length === crosses[j]!.length ? categories.encode(insertAt + j, crossValue(parts)) : Number.NaN;
      }
    }
    texts.length = 0;
    yield { values: values.subarray(0, chunk.rowCount * width), lines: chunk.lines, rowCount: chunk.rowCount };
  }
}
