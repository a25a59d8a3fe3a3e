// Webhooks (issue #28, notifications): decisions and jobs that failed for good go into the
// registry's outbox in the transaction that makes them true, and the daemon POSTs them to
// a real HTTP receiver started here — signed, retried while the receiver is down, and
// delivered after a daemon killed between the decision and the delivery comes back.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { verifySignature } from '../src/notify/index.ts';
import { claimJob, failJob } from '../src/queue/index.ts';
import { enqueueJob, pendingDeliveries } from '../src/registry/index.ts';
import { cleanEnv, spawnFreshet } from './support/cli.ts';
import { createTestDatabase } from './support/database.ts';
import { dropPartition } from './support/daemon.ts';
import { tempDir } from './support/partitions.ts';
import { trainEnv } from './support/train-config.ts';
import { waitFor } from './support/wait.ts';

const SECRET = 'a-secret-of-sixteen-or-more';

interface Received {
  id: string;
  type: string;
  body: string;
  signature: string;
}

/** A webhook receiver: answers 200, or 503 while `down`; records what it was sent. */
async function startReceiver() {
  const received: Received[] = [];
  const state = { down: false, refused: 0 };
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (state.down) {
        state.refused += 1;
        response.writeHead(503).end();
        return;
      }
      received.push({ id: String(request.headers['x-freshet-event-id']), type: String(request.headers['x-freshet-event']), body, signature: String(request.headers['x-freshet-signature']) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, state };
}

test('decisions reach a webhook signed; while it is down they wait; a daemon killed before delivering delivers after its restart; each event once', { timeout: 240_000 }, async () => {
  const receiver = await startReceiver();
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-webhooks-');
  const env = cleanEnv({
    ...trainEnv(dir, url),
    FRESHET_RETRAIN__SCHEDULE: '',
    FRESHET_EVAL__MUST_BEAT_NAIVE: 'false',
    FRESHET_QUEUE__POLL_INTERVAL_SECONDS: '0.5',
    FRESHET_QUEUE__CONCURRENCY: '1',
    FRESHET_HTTP__PORT: '0',
    FRESHET_LOG__LEVEL: 'info',
    FRESHET_NOTIFY__WEBHOOKS: JSON.stringify([{ url: receiver.url, secret: SECRET }]),
    FRESHET_NOTIFY__POLL_SECONDS: '0.3',
    FRESHET_NOTIFY__BACKOFF_SECONDS: '0.3',
    FRESHET_NOTIFY__MAX_BACKOFF_SECONDS: '1',
  });
  let daemon = spawnFreshet(['daemon'], { env });
  after(() => daemon.child.kill('SIGKILL'));
  await daemon.waitForLog('freshet running');

  // 1. The first model: a signed `promoted` event.
  dropPartition(`${dir}/data`, '2026-11-01', 600);
  dropPartition(`${dir}/data`, '2026-11-02', 600);
  const promoted = await waitFor('a promoted event', () => receiver.received.find((r) => r.type === 'promoted'), 120_000, 100);
  assert.ok(verifySignature(SECRET, promoted.body, promoted.signature), `the signature verifies: ${promoted.signature}`);
  assert.equal(verifySignature('another-secret-entirely', promoted.body, promoted.signature), false, 'and only with the secret');
  const event = JSON.parse(promoted.body) as { id: string; type: string; lineage: string; data: { version: number; decision: string; metricName: string } };
  assert.deepEqual([event.id, event.type, event.lineage, event.data.version, event.data.decision], [promoted.id, 'promoted', 'default', 1, 'promoted']);

  // 2. The receiver goes down; a retrain's decision waits in the outbox, its delivery retried.
  receiver.state.down = true;
  dropPartition(`${dir}/data`, '2026-11-03', 600);
  await waitFor('a second decision, refused by the receiver', async () => receiver.state.refused > 0 && (await pendingDeliveries(db)) > 0, 120_000, 100);

  // 3. The daemon dies before delivering it.
  daemon.child.kill('SIGKILL');
  await daemon.exited;
  receiver.state.down = false;

  // 4. Restarted, it delivers: every outbox event once, by its id.
  daemon = spawnFreshet(['daemon'], { env });
  await daemon.waitForLog('freshet running');
  await waitFor('every event delivered', async () => (await pendingDeliveries(db)) === 0 && receiver.received.length >= 2, 60_000, 100);
  const outbox = await sql<{ event_id: string; kind: string }>`SELECT event_id, kind FROM outbox ORDER BY id`.execute(db);
  assert.deepEqual(receiver.received.map((r) => r.id), outbox.rows.map((r) => r.event_id), 'each event delivered once, in order');
  assert.ok(outbox.rows.length >= 2 && ['promoted', 'rejected', 'fallback'].includes(outbox.rows[1]!.kind));
  for (const r of receiver.received) assert.ok(verifySignature(SECRET, r.body, r.signature));
  daemon.child.kill('SIGTERM');
  assert.equal((await daemon.exited).code, 0, daemon.stderr().slice(-2000));
});

test('a job that fails for good writes its job_failed event in the same statement', async () => {
  const { db } = await createTestDatabase();
  const { job } = await enqueueJob(db, { kind: 'retrain', max_attempts: 3, payload: { lineage: 'taxi' } });
  const claimed = (await claimJob(db, { workerId: 'w', leaseSeconds: 30 }))!;
  assert.equal(await failJob(db, claimed, 'w', 'the data is gone', { backoffSeconds: 1, maxBackoffSeconds: 1, permanent: true }), 'failed');
  const rows = await sql<{ kind: string; lineage: string; payload: { job: string; error: string } }>`SELECT kind, lineage, payload FROM outbox`.execute(db);
  assert.deepEqual(rows.rows.map((r) => [r.kind, r.lineage, r.payload.job, r.payload.error]), [['job_failed', 'taxi', job.id, 'the data is gone']]);
});
