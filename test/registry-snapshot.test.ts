// The whole registry as data and back (what `freshet backtest --save-warmup` keeps): every
// table's rows with their ids, the sequences where they stood, folders renamed in text and
// jsonb values, and a snapshot refused by a registry at other migrations.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { dumpRegistry, loadRegistry, listPartitions } from '../src/registry/index.ts';
import { createTestDatabase } from './support/database.ts';
import { addPartition, syntheticRows, tempDir } from './support/partitions.ts';

test('dumpRegistry / loadRegistry: rows, ids and sequences come back, folders renamed; other migrations are refused', async () => {
  const source = await createTestDatabase();
  const dataDir = path.join(tempDir('freshet-snapshot-'), 'data');
  await addPartition(source.db, dataDir, '2026-11-01', syntheticRows(20, 1));
  await addPartition(source.db, dataDir, '2026-11-02', syntheticRows(20, 2));
  await sql`INSERT INTO events (kind, message, data) VALUES ('test', 'a folder in jsonb', ${JSON.stringify({ folder: `${dataDir}/dt=2026-11-02` })}::jsonb)`.execute(source.db);
  const snapshot = await dumpRegistry(source.db);
  assert.deepEqual(JSON.parse(JSON.stringify(snapshot)), snapshot, 'plain JSON: what the snapshot file holds');

  const target = await createTestDatabase();
  const moved = path.join(tempDir('freshet-snapshot-moved-'), 'data');
  await addPartition(target.db, moved, '2026-12-31', syntheticRows(5, 9)); // replaced by the snapshot's rows
  await loadRegistry(target.db, JSON.parse(JSON.stringify(snapshot)), [{ from: dataDir, to: moved }]);
  const before = (await listPartitions(source.db)).map((p) => ({ id: p.id, path: p.path, sha256: p.sha256 }));
  const after = await listPartitions(target.db);
  assert.deepEqual(after.map((p) => ({ id: p.id, path: p.path, sha256: p.sha256 })), before, 'the same rows, the same ids');
  assert.ok(after.every((p) => p.source === moved), 'the data folder renamed in text columns');
  const event = (await sql<{ data: { folder: string } }>`SELECT data FROM events WHERE kind = 'test'`.execute(target.db)).rows[0]!;
  assert.equal(event.data.folder, `${moved}/dt=2026-11-02`, 'and in jsonb values');
  // The next id is the one the source registry would give.
  const nextSource = await addPartition(source.db, dataDir, '2026-11-03', syntheticRows(20, 3));
  const nextTarget = await addPartition(target.db, moved, '2026-11-03', syntheticRows(20, 3));
  assert.equal(nextTarget, nextSource);
  await assert.rejects(loadRegistry(target.db, { ...snapshot, migrations: snapshot.migrations.slice(0, -1) }), /a snapshot loads only into a registry at the same migrations/);
});
