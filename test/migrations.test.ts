import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import {
  appliedMigrations,
  assertSchemaCurrent,
  knownMigrations,
  migrateToLatest,
  openRegistry,
  registryStatus,
  REGISTRY_TABLES,
  SchemaAheadError,
} from '../src/registry/index.ts';
import { createTestDatabase } from './support/database.ts';

test('migrating a fresh database applies every migration; a second run is a no-op', async () => {
  const { db } = await createTestDatabase({ migrated: false });
  const first = await migrateToLatest(db);
  assert.deepEqual(first.applied, await knownMigrations());
  const second = await migrateToLatest(db);
  assert.deepEqual(second.applied, []);
  assert.equal(second.version, first.version);
  assert.equal(await assertSchemaCurrent(db), first.version);
});

test('two migrations at once (separate pools) both succeed and apply each migration once', async () => {
  const { db, url } = await createTestDatabase({ migrated: false });
  const other = openRegistry(url, { connectTimeoutSeconds: 10 });
  try {
    const results = await Promise.all([migrateToLatest(db), migrateToLatest(other)]);
    const appliedTotal = results.flatMap((r) => r.applied);
    assert.deepEqual(appliedTotal.sort(), (await knownMigrations()).sort(), 'each migration applied by exactly one of them');
    assert.deepEqual(await appliedMigrations(db), await knownMigrations());
  } finally {
    await other.destroy();
  }
});

test('a database ahead of the code is refused with a clear error, and left untouched', async () => {
  const { db } = await createTestDatabase();
  await sql`insert into kysely_migration (name, timestamp) values ('2099-01-01T0000_from_the_future', now())`.execute(db);
  await assert.rejects(migrateToLatest(db), (error: Error) => {
    assert.ok(error instanceof SchemaAheadError);
    assert.match(error.message, /ahead of this freshet.*2099-01-01T0000_from_the_future/);
    return true;
  });
  await assert.rejects(assertSchemaCurrent(db), SchemaAheadError);
});

test('status reports the schema version and a count for every registry table', async () => {
  const { db } = await createTestDatabase();
  await sql`insert into events (kind, message) values ('test', 'hello')`.execute(db);
  const status = await registryStatus(db);
  assert.equal(status.schemaVersion, (await knownMigrations()).at(-1));
  assert.deepEqual(status.pendingMigrations, []);
  assert.deepEqual(Object.keys(status.tables).sort(), [...REGISTRY_TABLES].sort());
  assert.equal(status.tables.events, 1);
  assert.equal(status.tables.partitions, 0);
});

test('an unmigrated database reports its pending migrations', async () => {
  const { db } = await createTestDatabase({ migrated: false });
  const status = await registryStatus(db);
  assert.equal(status.schemaVersion, null);
  assert.deepEqual(status.pendingMigrations, await knownMigrations());
  await assert.rejects(assertSchemaCurrent(db), /schema is behind: run `freshet migrate`/);
});
