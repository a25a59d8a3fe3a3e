// The training stream: deterministic, resumable from a cursor, bounded in memory, and the
// same whether produced in this thread or prefetched on a worker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { computeFeatureStats } from '../src/trainer/stream/feature-stats.ts';
import { loadEvalSet } from '../src/trainer/stream/eval-set.ts';
import { trainBatches, type TrainStreamOptions } from '../src/trainer/stream/train-batches.ts';
import { type TrainingPartition } from '../src/trainer/stream/stream-spec.ts';
import { prefetchedBatches, startedNow, streamWorkersStarted } from '../src/trainer/stream/prefetch.ts';
import { waitFor } from './support/wait.ts';
import { streamCacheDir } from '../src/trainer/run/stream-cache-dir.ts';
import { FEATURES, LABEL, syntheticRows, tempDir, writeCsv } from './support/partitions.ts';

function partitions(count: number, rows: number): TrainingPartition[] {
  const root = tempDir('freshet-dataset-');
  return Array.from({ length: count }, (_, i) => {
    const rel = `dt=2026-11-0${i + 1}`;
    writeCsv(path.join(root, rel, 'part-0.csv'), syntheticRows(rows, i + 1));
    return { id: String(i + 1), path: rel, dir: path.join(root, rel), files: ['part-0.csv'], rows };
  });
}

const columns = { features: FEATURES, categorical: [], label: LABEL, task: 'regression' as const };
const split = { evalFraction: 0.2, seed: 3, invalidRows: 'skip' as const };

async function take(stream: AsyncGenerator<{ x: Float32Array; y: Float32Array; cursor: { pass: number; offset: number } }>, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const next = await stream.next();
    out.push({ x: Buffer.from(next.value!.x.buffer.slice(0)), y: Buffer.from(next.value!.y.buffer.slice(0)), cursor: next.value!.cursor });
  }
  await stream.return(undefined);
  return out;
}

describe('training stream', async () => {
  const parts = partitions(3, 700);
  const stats = await computeFeatureStats(parts, columns, split);
  const options: TrainStreamOptions = { columns, split, stats, batchSize: 50, shuffleBuffer: 300 };

  test('the eval split holds out about evalFraction of rows, disjoint from training', async () => {
    const evalSet = await loadEvalSet(parts, columns, split, stats, 10_000);
    assert.ok(Math.abs(evalSet.rows / 2100 - 0.2) < 0.04, `${evalSet.rows} eval rows`);
    assert.equal(stats.count + evalSet.rows, 2100);
  });

  test('beyond maxRows: a uniform sample of all the rows, in their order, the same each time — for the gate and for validation alike', async () => {
    const full = await loadEvalSet(parts, columns, split, stats, Number.POSITIVE_INFINITY, 'all');
    assert.equal(full.rows, 2100);
    const rowOf = (set: typeof full, r: number) => [...set.x.subarray(r * set.dim, (r + 1) * set.dim), set.y[r]!].join(',');
    const spread = await loadEvalSet(parts, columns, split, stats, 300, 'all');
    assert.equal(spread.rows, 300);
    assert.equal(spread.sampledFrom, 2100);
    // Each sampled row is a row of the full set, in the full set's order.
    const index = new Map(Array.from({ length: full.rows }, (_, r) => [rowOf(full, r), r]));
    const places = Array.from({ length: spread.rows }, (_, r) => index.get(rowOf(spread, r)));
    assert.ok(places.every((p) => p !== undefined), 'every sampled row is a row of the partitions');
    assert.ok(places.every((p, i) => i === 0 || p! > places[i - 1]!), 'in the order they were read');
    const perPartition = [0, 1, 2].map((k) => places.filter((p) => Math.floor(p! / 700) === k).length);
    assert.ok(perPartition.every((n) => n >= 70 && n <= 130), `about a third from each partition, the newest too: ${perPartition}`);
    const again = await loadEvalSet(parts, columns, split, stats, 300, 'all');
    assert.deepEqual([...again.y], [...spread.y], 'the same rows each time');
    const roomy = await loadEvalSet(parts, columns, split, stats, 5000, 'all');
    assert.deepEqual([...roomy.x], [...full.x], 'under the bound: every row, as read');
    assert.equal(roomy.sampledFrom, undefined);
    // Validation rows (the eval split) the same way: not the oldest partition's first rows.
    const validation = await loadEvalSet(parts, columns, split, stats, Number.POSITIVE_INFINITY);
    const sampled = await loadEvalSet(parts, columns, split, stats, 100, 'eval', { names: [], textual: new Set(), encode: () => 0 });
    assert.equal(sampled.rows, 100);
    assert.equal(sampled.sampledFrom, validation.rows);
    const fromEach = [0, 1, 2].map((k) => sampled.side!.partition.filter((p) => p === k).length);
    assert.ok(fromEach.every((n) => n >= 15), `validation rows from every partition, the newest too: ${fromEach}`);
  });

  test('is deterministic, crosses passes with a new shuffle, and resumes exactly from a cursor', async () => {
    const a = await take(trainBatches(parts, options, { pass: 0, offset: 0 }), 80); // > 1 pass (≈ 34 batches a pass)
    const b = await take(trainBatches(parts, options, { pass: 0, offset: 0 }), 80);
    assert.deepEqual(a, b);
    assert.ok(a.some((batch) => batch.cursor.pass === 2), 'reached the third pass');
    const resumeAt = 45;
    const resumed = await take(trainBatches(parts, options, a[resumeAt - 1]!.cursor), 80 - resumeAt);
    assert.deepEqual(resumed, a.slice(resumeAt));
  });

  test('prefetched on a worker thread, the stream is byte-identical', async () => {
    const inThread = await take(trainBatches(parts, options, { pass: 1, offset: 7 * 50 }), 60);
    const prefetched = await take(prefetchedBatches(parts, options, { pass: 1, offset: 7 * 50 }, 4), 60);
    assert.deepEqual(prefetched, inThread);
  });

  test('with its parsed rows cached between passes, the stream is byte-identical, and the cache goes with it', async () => {
    const cacheDir = path.join(tempDir('freshet-row-cache-'), 'stream');
    const plain = await take(trainBatches(parts, options, { pass: 0, offset: 0 }), 130); // three passes and more
    const cached = await take(trainBatches(parts, { ...options, cacheDir }, { pass: 0, offset: 0 }), 130);
    assert.deepEqual(cached, plain);
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), ['0.rows', '1.rows', '2.rows'], 'one complete copy per file, nothing partial');
    // Resumed from a cursor in the third pass: a new stream, which makes (and trusts) only its own copies.
    const resumed = await take(trainBatches(parts, { ...options, cacheDir }, plain[80]!.cursor), 20);
    assert.deepEqual(resumed, plain.slice(81, 101));
    const prefetched = await take(prefetchedBatches(parts, { ...options, cacheDir: path.join(path.dirname(cacheDir), 'worker') }, { pass: 0, offset: 0 }, 4), 130);
    assert.deepEqual(prefetched, plain);
    assert.equal(fs.existsSync(path.join(path.dirname(cacheDir), 'worker')), false, 'the prefetching stream removes its cache when it ends');
  });

  test('started now, the worker reads before the first batch is asked for; the stream is the same, and ends as before', async () => {
    const plain = await take(trainBatches(parts, options, { pass: 0, offset: 0 }), 40);
    const cacheDir = path.join(tempDir('freshet-started-'), 'stream');
    const started = startedNow(prefetchedBatches(parts, { ...options, cacheDir }, { pass: 0, offset: 0 }, 4));
    // Its worker writes its copy of the parsed rows as it reads: proof that it is at work with no next() called.
    await waitFor('the worker to read before any batch is asked for', () => fs.existsSync(cacheDir) && fs.readdirSync(cacheDir).length > 0);
    assert.deepEqual(await take(started, 40), plain);
    assert.equal(fs.existsSync(cacheDir), false, 'ended by return(): its cache removed');
    // Ended before its first batch was taken: the worker goes, and its cache with it.
    const unused = startedNow(prefetchedBatches(parts, { ...options, cacheDir }, { pass: 0, offset: 0 }, 4));
    await unused.return(undefined);
    assert.equal(fs.existsSync(cacheDir), false, 'ended unused: its cache removed');
  });

  test('one stream after another runs on the same thread, each the same as in-thread, after a data error too', async () => {
    const plain = await take(trainBatches(parts, options, { pass: 0, offset: 0 }), 30);
    await take(prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4), 5); // a thread exists and is parked
    const threads = streamWorkersStarted();
    assert.deepEqual(await take(prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4), 30), plain);
    assert.deepEqual(await take(prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4), 30), plain);
    assert.equal(streamWorkersStarted(), threads, 'no new thread for the next streams');
    const bad = partitions(1, 10);
    writeCsv(path.join(bad[0]!.dir, 'part-0.csv'), [[1, 2, 3, 4, 5], [1, Number.NaN, 3, 4, 5]]);
    const strict = { ...options, split: { ...split, evalFraction: 1e-9, invalidRows: 'reject' as const } };
    await assert.rejects(take(prefetchedBatches(bad, strict, { pass: 0, offset: 0 }), 1), /line 3, column x1/);
    assert.deepEqual(await take(prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4), 30), plain, 'the stream after a failed one');
    assert.equal(streamWorkersStarted(), threads, 'the same thread throughout');
    // Two streams at once: the second gets a thread of its own.
    const first = prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4);
    const second = prefetchedBatches(parts, options, { pass: 0, offset: 0 }, 4);
    const [a, b] = await Promise.all([take(first, 20), take(second, 20)]);
    assert.deepEqual(a, plain.slice(0, 20));
    assert.deepEqual(b, plain.slice(0, 20));
    assert.equal(streamWorkersStarted(), threads + 1);
  });

  test('a data error in the worker reaches the caller with file, line and column', async () => {
    const bad = partitions(1, 10);
    writeCsv(path.join(bad[0]!.dir, 'part-0.csv'), [[1, 2, 3, 4, 5], [1, Number.NaN, 3, 4, 5], [1, 2, 3, 4, 5]]);
    const strict = { ...options, split: { ...split, evalFraction: 1e-9, invalidRows: 'reject' as const } };
    for (const stream of [() => prefetchedBatches(bad, strict, { pass: 0, offset: 0 }), () => startedNow(prefetchedBatches(bad, strict, { pass: 0, offset: 0 }))]) {
      await assert.rejects(take(stream(), 1), (error: Error & { line?: number; column?: string }) => {
        assert.match(error.message, /part-0\.csv, line 3, column x1: missing, NaN or infinite value/);
        assert.equal(error.line, 3);
        assert.equal(error.column, 'x1');
        return true;
      });
    }
  });
});

test("a run's stream cache directory: a fresh one each time, the same run's leftovers removed, other runs' kept", () => {
  const artifacts = tempDir('freshet-stream-cache-dir-');
  const first = streamCacheDir(artifacts, '7');
  fs.mkdirSync(first, { recursive: true }); // a stream killed before it could remove it
  const other = streamCacheDir(artifacts, '70');
  fs.mkdirSync(other, { recursive: true });
  const second = streamCacheDir(artifacts, '7');
  assert.notEqual(second, first);
  assert.equal(fs.existsSync(first), false, "run 7's earlier copies are gone");
  assert.equal(fs.existsSync(other), true, "run 70's are not run 7's");
});
