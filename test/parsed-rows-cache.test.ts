// The process's parsed rows (trainer/stream/parsed-rows-cache.ts): a pass over a file read
// before gives exactly what parsing it gives — numbers, line numbers, invalid rows skipped,
// categorical and crossed columns through each reader's own encoding, side columns — and
// a changed file, a reader that stopped early and the memory bound are respected.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readTable, type CategoryEncoding } from '../src/data/index.ts';
import { computeFeatureStats, trainingLabels } from '../src/trainer/stream/feature-stats.ts';
import { loadEvalSet } from '../src/trainer/stream/eval-set.ts';
import { countCategoryValues } from '../src/trainer/stream/category-values.ts';
import { ParsedRowsCache } from '../src/trainer/stream/parsed-rows-cache.ts';
import { parsedRows } from '../src/trainer/stream/valid-rows.ts';
import type { ColumnSpec, TrainingPartition } from '../src/trainer/stream/stream-spec.ts';
import { tempDir } from './support/partitions.ts';

const columns: ColumnSpec = { features: ['x', 'w'], categorical: ['zone', 'hour'], crosses: [['zone', 'hour']], label: 'y', task: 'regression' };
const split = { evalFraction: 0.3, seed: 5, invalidRows: 'skip' as const };
const rules = { maxTokens: 100, minCount: 1, oovBuckets: 1, embeddingDim: 0 };

/** A CSV whose zones and hours come in an order that numbers them differently column-major and row-major, with a missing zone and a bad number. */
function writePartition(root: string, day: string, rows: number, shift = 0): TrainingPartition {
  const dir = path.join(root, `dt=${day}`);
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['x,w,zone,hour,y,station'];
  for (let i = 0; i < rows; i++) {
    const zone = i === 7 ? '' : ['north', 'south', 'east "quoted"', 'west'][(i * 3) % 4]!;
    const x = i === 11 ? 'oops' : String((i % 17) * 0.25 + shift);
    lines.push(`${x},${i % 5},"${zone.replaceAll('"', '""')}",${(i * 7) % 24},${i * 0.5 + shift},st${i % 3}`);
  }
  fs.writeFileSync(path.join(dir, 'part-0.csv'), `${lines.join('\n')}\n`);
  return { id: day, path: `dt=${day}`, dir, files: ['part-0.csv'], rows: null };
}

/** Every pass outside the training stream, `between` called before each. */
async function everything(parts: TrainingPartition[], between: () => void) {
  between();
  const stats = await computeFeatureStats(parts, columns, split, rules);
  between();
  const evalSet = await loadEvalSet(parts, columns, split, stats, 100_000);
  between();
  const gate = await loadEvalSet(parts, columns, split, stats, 100_000, 'all', { names: ['station'], textual: new Set([0]), encode: (t) => Number(t.slice(2)) });
  between();
  const labels = Array.from(await trainingLabels(parts, columns, split));
  between();
  const counts = (await countCategoryValues(parts, columns, split)).map((m) => [...m]);
  return { stats, evalSet, gate, labels, counts };
}

test('a file read again from memory gives what parsing it gives, for every pass', async () => {
  const root = tempDir('freshet-parsed-');
  const parts = [writePartition(root, '2026-12-01', 300), writePartition(root, '2026-12-02', 250, 1)];
  const parsed = await everything(parts, () => parsedRows.clear()); // every pass parses
  assert.ok(parsedRows.bytes > 0, 'the files were kept');
  const fromMemory = await everything(parts, () => assert.ok(parsedRows.bytes > 0)); // every pass from memory
  assert.deepEqual(fromMemory, parsed);
  assert.ok(parsed.evalSet.rows > 0 && parsed.gate.rows > parsed.evalSet.rows && parsed.gate.side!.columns[0]!.some((v) => v === 2));
  assert.equal(parsed.gate.rows, 546, 'four invalid rows skipped (a missing zone and a bad number in each file)');
});

test('a changed file is parsed again; a reader that stopped early keeps nothing', async () => {
  const root = tempDir('freshet-parsed-');
  const [part] = [writePartition(root, '2026-12-01', 300)];
  parsedRows.clear();
  const stats = await computeFeatureStats([part!], columns, split, rules);
  const before = parsedRows.bytes;
  await loadEvalSet([part!], columns, split, stats, 10, 'all');
  assert.equal(parsedRows.bytes, before, 'a set cut at 10 rows did not keep a partial copy of the file');
  writePartition(root, '2026-12-01', 320, 2); // rewritten in place: another size
  const after = await loadEvalSet([part!], columns, split, stats, 100_000, 'all');
  assert.equal(after.rows, 318);
  assert.equal(after.y[0], 2, 'the new file\'s first label');
});

test('the cache holds at most its bound, dropping the least recently read first', async () => {
  const root = tempDir('freshet-parsed-');
  const files = ['a', 'b', 'c'].map((name, i) => {
    const file = path.join(root, `${name}.csv`);
    fs.writeFileSync(file, `x,y\n${Array.from({ length: 100 }, (_, r) => `${r},${r + i}`).join('\n')}\n`);
    return file;
  });
  const oneFile = 100 * 2 * 8 + 100 * 4; // values (f64) and line numbers (i32)
  const cache = new ParsedRowsCache(oneFile * 2);
  const reads: string[] = [];
  const pass = async (file: string) => {
    const rows: number[] = [];
    const key = { location: file, bytes: 1, modifiedMs: 1, shape: 'x,y' };
    for await (const chunk of cache.chunks(key, new Set(), undefined, () => (reads.push(file), readTable(file, ['x', 'y'])))) rows.push(...chunk.values);
    return rows;
  };
  const first = await pass(files[0]!);
  await pass(files[1]!);
  assert.deepEqual(await pass(files[0]!), first); // a hit: a is now the most recent
  await pass(files[2]!); // over the bound: b goes
  assert.equal(cache.bytes, oneFile * 2);
  await pass(files[0]!);
  await pass(files[1]!);
  assert.deepEqual(reads.map((f) => path.basename(f)), ['a.csv', 'b.csv', 'c.csv', 'b.csv']);
});

test('a file whose read outlived a clear() is not kept (its text ids belong to the table that was dropped)', async () => {
  const root = tempDir('freshet-parsed-');
  const file = path.join(root, 'z.csv');
  fs.writeFileSync(file, `zone,y\n${Array.from({ length: 5000 }, (_, r) => `z${r % 50},${r}`).join('\n')}\n`); // two chunks of rows
  const cache = new ParsedRowsCache();
  const encoding: CategoryEncoding = { columns: new Set([0]), encode: (_c, t) => Number(t.slice(1)) };
  const key = { location: file, bytes: 1, modifiedMs: 1, shape: 'zone,y' };
  const zones: number[] = [];
  for await (const chunk of cache.chunks(key, encoding.columns, encoding, (through) => readTable(file, ['zone', 'y'], { categories: through! }))) {
    for (let r = 0; r < chunk.rowCount; r++) zones.push(chunk.values[r * 2]!);
    cache.clear(); // as the idle timer or the text bound would, mid-read
  }
  assert.deepEqual(zones.slice(0, 3), [0, 1, 2], 'the reader still got its own ids');
  assert.equal(zones.length, 5000);
  assert.equal(cache.bytes, 0);
});

test('text values reach each reader through its own encoding, numbered in the order parsing meets them', async () => {
  const root = tempDir('freshet-parsed-');
  const file = path.join(root, 'p.csv');
  fs.writeFileSync(file, 'a,b\nx,y\nz,x\ny,z\n');
  const cache = new ParsedRowsCache();
  const numbering = (): { encoding: CategoryEncoding; seen: string[] } => {
    const seen: string[] = [];
    return { seen, encoding: { columns: new Set([0, 1]), encode: (_c, t) => (seen.includes(t) ? seen.indexOf(t) : seen.push(t) - 1) } };
  };
  const read = async () => {
    const { encoding, seen } = numbering();
    const values: number[] = [];
    for await (const chunk of cache.chunks({ location: file, bytes: 1, modifiedMs: 1, shape: 'a,b' }, encoding.columns, encoding, (through) => readTable(file, ['a', 'b'], { categories: through! }))) values.push(...chunk.values);
    return { values, seen };
  };
  const parsed = await read();
  assert.deepEqual(parsed, { values: [0, 1, 2, 0, 1, 2], seen: ['x', 'y', 'z'] });
  assert.deepEqual(await read(), parsed);
});
