// The byte-level CSV validation pass gives exactly the reader path's answers: the same
// row and invalid-row counts, or the same error (file, line, column, message), on
// generated files full of the cases the byte grammar leaves to the reader, and on
// fuzzed bytes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/core/rng.ts';
import { validateCsvFile } from '../src/data/csv-validate.ts';
import { validateRowsByReader } from '../src/data/index.ts';
import { tempDir } from './support/partitions.ts';

const CELLS = [
  '1', '-2.5', '+3', '.5', '7.', '1e5', '-1.25E-3', '1e999', '1e99', '1e100', '12345678901234567890', '0.1234567890123456789', '9'.repeat(200), '9'.repeat(201), '9'.repeat(309), '', ' ', ' 4 ',
  'NaN', 'nan', 'NA', 'null', 'None', 'Infinity', '-Infinity', '0x1F', '1_000', 'abc', 'é', '1e', '-', '+', '1.2.3', '"5"', '"a,b"', '"say ""hi"""',
  '"unterminated', 'x"y', '00012', '1e+07', '9'.repeat(15), '9'.repeat(16), '\t3',
];

function cell(rng: Rng): string {
  return rng.next() < 0.97 ? String(Math.round((rng.next() - 0.5) * 1e6) / 1000) : CELLS[Math.floor(rng.next() * CELLS.length)]!;
}

function randomCsv(rng: Rng): string {
  const header = ['a', 'b', 'zone', 'c', 'y'];
  const lines = [(rng.next() < 0.1 ? '\uFEFF' : '') + header.join(',')];
  const rows = 1 + Math.floor(rng.next() * 40);
  for (let r = 0; r < rows; r++) {
    if (rng.next() < 0.05) {
      lines.push('');
      continue;
    }
    const width = rng.next() < 0.03 ? 4 + Math.floor(rng.next() * 3) : 5;
    lines.push(Array.from({ length: width }, (_, i) => (i === 2 && rng.next() < 0.7 ? ['north', 'süd', ''][Math.floor(rng.next() * 3)]! : cell(rng))).join(','));
  }
  const eol = rng.next() < 0.2 ? '\r\n' : '\n';
  return lines.join(eol) + (rng.next() < 0.8 ? eol : '');
}

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    const e = error as Error & { line?: number; column?: string };
    return { error: e.message, line: e.line, column: e.column };
  }
}

/**
 * Equal outcomes, with one allowed difference: under invalidRows reject, the byte pass
 * reports the first problem by line, where the reader first parses its whole chunk of
 * 4,096 rows (throwing a later line's parse error) before it looks for missing values.
 */
function sameAnswer(fast: unknown, reader: unknown, context: string): void {
  const f = fast as { error?: string; line?: number };
  const r = reader as { error?: string; line?: number };
  if (f.error && r.error && f.error.endsWith('missing, NaN or infinite value') && f.line! < r.line!) return;
  assert.deepEqual(fast, reader, context);
}

test('the byte pass and the reader agree on 1,500 generated files, both rules, with and without a categorical column', async () => {
  const dir = tempDir('freshet-csv-validate-');
  const rng = new Rng(20261203);
  let errors = 0;
  for (let i = 0; i < 1500; i++) {
    const file = path.join(dir, `f${i}.csv`);
    fs.writeFileSync(file, randomCsv(rng));
    const columns = rng.next() < 0.5 ? ['y', 'a', 'zone', 'c'] : ['a', 'c', 'y'];
    const categorical = new Set(columns.includes('zone') && rng.next() < 0.7 ? [columns.indexOf('zone')] : []);
    const rule = rng.next() < 0.5 ? 'skip' : 'reject';
    const fast = await outcome(() => validateCsvFile(file, columns, categorical, rule));
    const reader = await outcome(() => validateRowsByReader(file, columns, categorical, rule));
    sameAnswer(fast, reader, `${file} (${columns.join(',')}, ${rule}):\n${fs.readFileSync(file, 'utf8')}`);
    if ((fast as { error?: string }).error) errors += 1;
  }
  assert.ok(errors > 100 && errors < 1400, `both outcomes are exercised: ${errors} errors`);
});

test('lines across read boundaries, a last line without a newline, runs of valid lines and fuzzed bytes give the same answers', { timeout: 120_000 }, async () => {
  const dir = tempDir('freshet-csv-validate-big-');
  const rng = new Rng(7);
  const rows = Array.from({ length: 90_000 }, (_, i) => `${i},${(i * 0.37).toFixed(3)},z${i % 13},${i % 97 === 0 ? '' : -i},${i % 5}`);
  const big = path.join(dir, 'big.csv');
  fs.writeFileSync(big, `a,b,zone,c,y\r\n${rows.join('\r\n')}`);
  assert.ok(fs.statSync(big).size > 2 * 2 ** 20);
  for (const rule of ['skip', 'reject'] as const) {
    sameAnswer(await outcome(() => validateCsvFile(big, ['a', 'b', 'zone', 'c', 'y'], new Set([2]), rule)), await outcome(() => validateRowsByReader(big, ['a', 'b', 'zone', 'c', 'y'], new Set([2]), rule)), rule);
  }
  // Long runs of valid lines (the fast pattern's blocks of 256) broken by a line it
  // leaves to the byte scan now and then, including one of each awkward cell.
  const sparse = path.join(dir, 'sparse.csv');
  const awkward = ['', '1e999', '9'.repeat(200), '9'.repeat(201), '9'.repeat(309), '00012', '1e+07', '.5', '7.', '-1.25E-3', 'NaN', ' 4 ', '\t3'];
  const sparseRows = Array.from({ length: 60_000 }, (_, i) => {
    const odd = i % 733 === 0 ? awkward[(i / 733) % awkward.length]! : String(-i);
    return `${i},${(i * 0.37).toFixed(3)},${i % 1999 === 0 ? '' : `z${i % 13}`},${odd},${i % 5}`;
  });
  fs.writeFileSync(sparse, `a,b,zone,c,y\n${sparseRows.join('\r\n')}\r\n`);
  for (const rule of ['skip', 'reject'] as const) {
    for (const [columns, categorical] of [[['a', 'b', 'zone', 'c', 'y'], new Set([2])], [['y', 'c'], new Set<number>()], [['zone', 'a'], new Set([0])]] as const) {
      const fast = await outcome(() => validateCsvFile(sparse, columns, categorical, rule));
      sameAnswer(fast, await outcome(() => validateRowsByReader(sparse, columns, categorical, rule)), `${rule} ${columns.join(',')}`);
      if (rule === 'skip' && columns.length === 5) assert.equal((fast as { rowCount: number }).rowCount, 60_000, 'blocks counted, odd lines judged');
    }
  }
  const source = Buffer.from(randomCsv(new Rng(3)).repeat(3));
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(source);
    for (let flips = 0; flips < 1 + Math.floor(rng.next() * 5); flips++) bytes[Math.floor(rng.next() * bytes.length)] = Math.floor(rng.next() * 256);
    const file = path.join(dir, `fuzz${i}.csv`);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(rng.next() * bytes.length) + 1));
    assert.deepEqual(await outcome(() => validateCsvFile(file, ['a', 'y'], new Set(), 'skip')), await outcome(() => validateRowsByReader(file, ['a', 'y'], new Set(), 'skip')), file);
  }
});

test('the statistics\' fast decimal parse equals Number() to the bit, or declines (exponents, more than 15 significant digits)', async () => {
  const { fastPlainDecimal } = await import('../src/data/plain-number.ts');
  const rng = new Rng(11);
  const cases = ['0', '-0', '+0', '5.', '.5', '-.5', '12.34', '-166.5435', '17.70188889', '000123', '0.000001', '123456789012345', '99999999999999.9'];
  for (let k = 0; k < 100_000; k++) {
    let digits = '';
    for (let d = 0, n = 1 + Math.floor(rng.next() * 16); d < n; d++) digits += Math.floor(rng.next() * 10);
    const point = Math.floor(rng.next() * (digits.length + 1));
    cases.push(`${rng.next() < 0.3 ? '-' : ''}${digits.slice(0, point)}${rng.next() < 0.8 ? '.' : ''}${digits.slice(point)}`);
  }
  let parsed = 0;
  for (const text of cases) {
    const value = fastPlainDecimal(text, 0, text.length);
    if (value === undefined) continue;
    parsed += 1;
    assert.ok(Object.is(value, Number(text)), `${JSON.stringify(text)}: ${value} vs Number()'s ${Number(text)}`);
  }
  assert.ok(parsed > 90_000, `most plain decimals take the fast path: ${parsed}`);
  for (const text of ['1e5', '1.2.3', '', '-', '.', '+.', '1234567890123456', ' 5', '0x10']) assert.equal(fastPlainDecimal(text, 0, text.length), undefined, text);
});
