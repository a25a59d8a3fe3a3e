// The partition readers on real files: CSV, JSON Lines and Parquet (Snappy, gzip, ZSTD).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { describe, test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DataFileError, readTable } from '../src/data/index.ts';
import { splitCsvLine } from '../src/data/index.ts';
import { tempDir } from './support/partitions.ts';

async function readAll(file: string, columns: string[]): Promise<{ rows: number[][]; lines: number[] }> {
  const rows: number[][] = [];
  const lines: number[] = [];
  for await (const chunk of readTable(file, columns)) {
    for (let r = 0; r < chunk.rowCount; r++) {
      rows.push(Array.from(chunk.values.subarray(r * columns.length, (r + 1) * columns.length)));
      lines.push(chunk.lines[r]!);
    }
  }
  return { rows, lines };
}

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(tempDir('freshet-readers-'), name);
  fs.writeFileSync(file, content);
  return file;
}

async function rejectsAt(file: string, columns: string[], pattern: RegExp, where: { line?: number; column?: string } = {}): Promise<void> {
  await assert.rejects(readAll(file, columns), (error: Error) => {
    assert.ok(error instanceof DataFileError, `DataFileError, got ${error}`);
    assert.ok(error.message.startsWith(file), `names the file: ${error.message}`);
    assert.match(error.message, pattern);
    if (where.line !== undefined) assert.equal(error.line, where.line);
    if (where.column !== undefined) assert.equal(error.column, where.column);
    return true;
  });
}

describe('CSV', () => {
  test('reads the requested columns in the requested order, with line numbers; blank lines and CRLF are fine', async () => {
    const file = write('a.csv', 'b,a,c\r\n1,2,3\r\n\r\n4,5,6\r\n');
    const { rows, lines } = await readAll(file, ['a', 'c']);
    assert.deepEqual(rows, [[2, 3], [5, 6]]);
    assert.deepEqual(lines, [2, 4]);
  });

  test('quoted fields, escaped quotes, empty and non-numeric values become NaN', async () => {
    assert.deepEqual(splitCsvLine('"a,b","say ""hi""",,3'), ['a,b', 'say "hi"', '', '3']);
    const file = write('q.csv', 'x,y\n"1.5",abc\n,2\n');
    const { rows } = await readAll(file, ['x', 'y']);
    assert.equal(rows[0]![0], 1.5);
    assert.ok(Number.isNaN(rows[0]![1]));
    assert.ok(Number.isNaN(rows[1]![0]));
  });

  test('streams in chunks: more rows than one chunk come out complete and in order', async () => {
    const n = 10_000;
    const file = write('big.csv', `v\n${Array.from({ length: n }, (_, i) => i).join('\n')}\n`);
    let count = 0;
    let chunks = 0;
    for await (const chunk of readTable(file, ['v'])) {
      chunks += 1;
      for (let r = 0; r < chunk.rowCount; r++) assert.equal(chunk.values[r], count++);
    }
    assert.equal(count, n);
    assert.ok(chunks > 1, 'several chunks');
  });

  test('errors name the file, line and column', async () => {
    await rejectsAt(write('m.csv', 'x,y\n1,2\n'), ['x', 'z'], /missing column "z"/, { line: 1 });
    await rejectsAt(write('f.csv', 'x,y\n1,2\n3\n'), ['x', 'y'], /expected 2 fields as in the header, found 1/, { line: 3 });
    await rejectsAt(write('u.csv', 'x,y\n1,"2\n'), ['x', 'y'], /unterminated quoted field/, { line: 2 });
    await rejectsAt(write('e.csv', ''), ['x'], /empty file: no header row/);
  });
});

describe('JSON Lines', () => {
  test('reads numbers, numeric strings and booleans; a missing key is NaN', async () => {
    const file = write('a.jsonl', '{"x":1,"y":"2.5"}\n\n{"x":true}\n');
    const { rows, lines } = await readAll(file, ['x', 'y']);
    assert.deepEqual(rows[0], [1, 2.5]);
    assert.equal(rows[1]![0], 1);
    assert.ok(Number.isNaN(rows[1]![1]));
    assert.deepEqual(lines, [1, 3]);
  });

  test('invalid JSON and non-objects name the line', async () => {
    await rejectsAt(write('b.jsonl', '{"x":1}\n{"x":\n'), ['x'], /not valid JSON/, { line: 2 });
    await rejectsAt(write('c.jsonl', '[1,2]\n'), ['x'], /each line must be a JSON object/, { line: 1 });
  });
});

describe('Parquet', () => {
  const columnData = [
    { name: 'x', data: Float64Array.from({ length: 2500 }, (_, i) => i / 10), type: 'DOUBLE' as const },
    { name: 'n', data: BigInt64Array.from({ length: 2500 }, (_, i) => BigInt(i)), type: 'INT64' as const },
  ];
  const codecs = {
    SNAPPY: undefined,
    GZIP: { GZIP: (bytes: Uint8Array) => new Uint8Array(zlib.gzipSync(bytes)) },
    ZSTD: { ZSTD: (bytes: Uint8Array) => new Uint8Array(zlib.zstdCompressSync(bytes)) },
  };
  for (const [codec, compressors] of Object.entries(codecs)) {
    test(`reads ${codec}-compressed files across row groups`, async () => {
      const buffer = parquetWriteBuffer({ columnData, codec: codec as 'SNAPPY', compressors, rowGroupSize: 1000 });
      const file = write(`${codec}.parquet`, new Uint8Array(buffer));
      const { rows, lines } = await readAll(file, ['n', 'x']);
      assert.equal(rows.length, 2500);
      assert.deepEqual(rows[1234], [1234, 123.4]);
      assert.equal(lines[2499], 2500);
    });
  }

  test('a truncated file or a missing column is rejected naming the file', async () => {
    const buffer = new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 1000 }));
    await rejectsAt(write('t.parquet', buffer.subarray(0, Math.floor(buffer.length / 2))), ['x'], /not a readable Parquet file/);
    await rejectsAt(write('m.parquet', buffer), ['x', 'nope'], /missing column "nope"/);
    await rejectsAt(write('junk.parquet', new Uint8Array(4096).map((_, i) => (i * 7919) & 255)), ['x'], /not a readable Parquet file/);
  });
});

test('an unknown file type is rejected naming the file', async () => {
  await rejectsAt(write('data.xlsx', 'PK'), ['x'], /unknown file type/);
});

test('a Parquet file that sends the decoder into a loop (found by fuzzing) is rejected after the time limit, and nothing hangs', async () => {
  const { validateFileIsolated } = await import('../src/watcher/isolated-validation.ts');
  const file = fileURLToPath(new URL('./fixtures/hyparquet-1.33-loops.parquet', import.meta.url));
  await assert.rejects(validateFileIsolated(file, { numericColumns: ['x0', 'x1', 'x2', 'x3', 'y'], invalidRows: 'skip' }, fs.statSync(file).size, 1500), (error: Error) => {
    assert.equal(error.name, 'DataFileError');
    assert.match(error.message, /hyparquet-1\.33-loops\.parquet: could not be decoded within 2 s/);
    return true;
  });
});
