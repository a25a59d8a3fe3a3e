// The registry's connections on a broken network, through a TCP proxy in front of the real
// server: a server that refuses, and a network that silently swallows packets.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { isTransientDatabaseError, openRegistry, type Registry } from '../src/registry/index.ts';
import { NotificationListener } from '../src/queue/index.ts';
import { createLogger } from '../src/core/log.ts';
import { createTestDatabase } from './support/database.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { waitFor } from './support/wait.ts';

const log = createLogger({ level: 'silent', format: 'json' });

async function proxied(): Promise<{ proxy: TcpProxy; url: string; direct: Registry }> {
  const { url, db } = await createTestDatabase();
  const target = new URL(url);
  const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  after(() => proxy.close());
  return { proxy, url: proxy.proxiedUrl(url), direct: db };
}

const selectOne = async (db: Registry): Promise<unknown> => (await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one;

describe('a network that silently drops packets', () => {
  // Without the query timeout this test hangs (and fails on its own timeout): a statement
  // whose reply never comes waits forever.
  test('a stuck statement fails as a transient error after queryTimeoutSeconds; its connection is dropped, not reused', { timeout: 60_000 }, async () => {
    const { proxy, url } = await proxied();
    // One connection: after the outage the pool must replace it, since the old one is dead for good.
    const db = openRegistry(url, { connectTimeoutSeconds: 2, queryTimeoutSeconds: 1, maxConnections: 1 });
    after(() => db.destroy());
    assert.equal(await selectOne(db), 1);
    proxy.setMode('blackhole');
    await assert.rejects(selectOne(db), (error: Error) => /Query read timeout/.test(error.message) && isTransientDatabaseError(error));
    // A new connection cannot get through either: the connect timeout ends it.
    await assert.rejects(selectOne(db), (error: Error) => isTransientDatabaseError(error));
    proxy.setMode('pass');
    assert.equal(await selectOne(db), 1, 'the pool opened a new connection instead of reusing the dead one');
    // A transaction whose statement gets stuck rolls back once the network is back.
    await db.schema.createTable('t').addColumn('v', 'integer').execute();
    const stuck = db.transaction().execute(async (trx) => {
      await trx.insertInto('t' as never).values({ v: 1 } as never).execute();
      proxy.setMode('blackhole');
      await sql`select 1`.execute(trx);
    });
    await assert.rejects(stuck, (error: Error) => isTransientDatabaseError(error));
    proxy.setMode('pass');
    assert.deepEqual((await sql`select v from t`.execute(db)).rows, [], 'nothing of the stuck transaction was committed');
  });

  test('the LISTEN connection notices it is dead by its ping, and listens again once the network heals', { timeout: 60_000 }, async () => {
    const { proxy, url, direct } = await proxied();
    const listener = new NotificationListener({ url, channels: ['freshet_jobs'], log, maxBackoffSeconds: 0.5, connectTimeoutSeconds: 1, queryTimeoutSeconds: 1, pingSeconds: 0.5 });
    after(() => listener.stop());
    const received: string[] = [];
    listener.on('notification', (_channel, payload) => received.push(payload));
    listener.start();
    await waitFor('listening', () => listener.connected);
    proxy.setMode('blackhole');
    await waitFor('the dead connection noticed', () => !listener.connected);
    proxy.setMode('pass');
    await waitFor('listening again', () => listener.connected);
    await sql`select pg_notify('freshet_jobs', 'after the outage')`.execute(direct);
    await waitFor('a notification after the outage', () => received.includes('after the outage'));
  });

  // pg's Client never settles connect() once end() is called on it mid-connect (its 'end'
  // handler skips the connect callback when the client is ending): without the listener's
  // own abort of the attempt, stop() waited forever (the likely cause of a daemon's graceful
  // shutdown running into its timeout in CI, 2026-12-07). The connect timeout is long here
  // so only stop() can end the attempt.
  test('stop() during a connection attempt that gets no answer ends the attempt and returns', { timeout: 30_000 }, async () => {
    const { proxy, url } = await proxied();
    proxy.setMode('blackhole');
    const listener = new NotificationListener({ url, channels: ['freshet_jobs'], log, maxBackoffSeconds: 0.5, connectTimeoutSeconds: 60, queryTimeoutSeconds: 60 });
    listener.start();
    await waitFor('a connection attempt under way', () => proxy.connections > 0);
    await listener.stop();
    assert.equal(listener.connected, false);
  });
});

describe('a server that refuses connections', () => {
  test('statements fail as transient errors while it refuses and work again after', { timeout: 60_000 }, async () => {
    const { proxy, url } = await proxied();
    const db = openRegistry(url, { connectTimeoutSeconds: 2, queryTimeoutSeconds: 5 });
    after(() => db.destroy());
    assert.equal(await selectOne(db), 1);
    proxy.setMode('refuse');
    await assert.rejects(selectOne(db), (error: Error) => isTransientDatabaseError(error));
    proxy.setMode('pass');
    assert.equal(await selectOne(db), 1);
  });
});
