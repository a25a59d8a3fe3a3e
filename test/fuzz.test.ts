// Fuzzing the partition readers through the watcher: at least 100 partitions, then more
// until FUZZ_SECONDS (default 15) have passed: random bytes, and valid CSV, JSON Lines and Parquet files truncated or with
// bytes flipped. Nothing may crash or hang, and every partition must end registered or
// rejected with a message naming its file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { listPartitions } from '../src/registry/index.ts';
import { Rng } from '../src/core/rng.ts';
import { PartitionWatcher } from '../src/watcher/index.ts';
import { createTestDatabase } from './support/database.ts';
import { FEATURES, LABEL, syntheticRows, tempDir } from './support/partitions.ts';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 15);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const MIN_BATCHES = 5; // of 20 partitions
const COLUMNS = [...FEATURES, LABEL];

function validFile(kind: 'csv' | 'jsonl' | 'parquet', rng: Rng): Uint8Array {
  const rows = syntheticRows(5 + Math.floor(rng.next() * 300), Math.floor(rng.next() * 1000));
  if (kind === 'csv') return Buffer.from(`${COLUMNS.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  if (kind === 'jsonl') return Buffer.from(rows.map((r) => JSON.stringify(Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]])))).join('\n'));
  return new Uint8Array(parquetWriteBuffer({ columnData: COLUMNS.map((name, i) => ({ name, data: Float64Array.from(rows, (r) => r[i]!), type: 'DOUBLE' as const })) }));
}

/** One fuzzed file: random bytes, or a valid file truncated, with flipped bytes, or both. */
function fuzzedFile(rng: Rng): { name: string; bytes: Uint8Array; how: string } {
  const kind = (['csv', 'jsonl', 'parquet'] as const)[Math.floor(rng.next() * 3)]!;
  const mode = Math.floor(rng.next() * 4);
  if (mode === 0) {
    const bytes = Uint8Array.from({ length: Math.floor(rng.next() * 4096) }, () => Math.floor(rng.next() * 256));
    return { name: `random.${kind}`, bytes, how: 'random bytes' };
  }
  let bytes = validFile(kind, rng);
  if (mode === 1 || mode === 3) bytes = bytes.subarray(0, Math.floor(rng.next() * bytes.length));
  if (mode === 2 || mode === 3) {
    bytes = Uint8Array.from(bytes);
    for (let flips = 1 + Math.floor(rng.next() * 8); flips > 0 && bytes.length; flips--) bytes[Math.floor(rng.next() * bytes.length)] = Math.floor(rng.next() * 256);
  }
  return { name: `part-0.${kind}`, bytes, how: ['random', 'truncated', 'flipped', 'truncated and flipped'][mode]! };
}

test(`fuzzed partition files for ${SECONDS} s (seed ${SEED}): no crash, every partition registered or rejected with a message naming its file`, async () => {
  const { db } = await createTestDatabase();
  const dir = tempDir('freshet-fuzz-');
  const data = path.join(dir, 'data');
  // A Parquet file that loops the decoder is rejected after this limit (see readers.test.ts).
  const config = loadConfig({ env: { FRESHET_DATA_DIR: data, FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES), FRESHET_COLUMNS__LABEL: LABEL, FRESHET_WATCHER__PARQUET_TIME_LIMIT_SECONDS: '3' }, cwd: dir });
  const watcher = new PartitionWatcher({ db, config, log: createLogger({ level: 'silent', format: 'json' }) });
  const failures: string[] = [];
  watcher.on('failure', (error, rel) => failures.push(`${rel}: ${error.message}`));
  const rng = new Rng(SEED);
  const written = new Map<string, { name: string; how: string }>();
  const deadline = Date.now() + SECONDS * 1000;
  // At least MIN_BATCHES batches whatever the machine's speed, then more until the deadline.
  for (let batch = 0; batch < MIN_BATCHES || Date.now() < deadline; batch++) {
    for (let i = 0; i < 20; i++) {
      const rel = `batch=${batch}/n=${i}`;
      const file = fuzzedFile(rng);
      fs.mkdirSync(path.join(data, rel), { recursive: true });
      fs.writeFileSync(path.join(data, rel, file.name), file.bytes);
      fs.writeFileSync(path.join(data, rel, '_SUCCESS'), '');
      written.set(rel, file);
    }
    await watcher.scan();
  }
  assert.deepEqual(failures, [], 'no registration failed for a reason other than the data');
  const rows = new Map((await listPartitions(db, { limit: 1_000_000 })).map((r) => [r.path, r]));
  const outcomes = { registered: 0, rejected: 0 };
  for (const [rel, file] of written) {
    const row = rows.get(rel);
    assert.ok(row, `${rel} (${file.how} ${file.name}) has no registry row`);
    assert.ok(row.status === 'registered' || row.status === 'rejected', `${rel}: ${row.status}`);
    if (row.status === 'rejected') {
      assert.ok(row.error!.includes(rel), `${rel} (${file.how}): the rejection names the partition: ${row.error}`);
      outcomes.rejected += 1;
    } else outcomes.registered += 1;
  }
  process.stderr.write(`fuzz (seed ${SEED}): ${written.size} partitions, ${outcomes.registered} registered, ${outcomes.rejected} rejected\n`);
});
