// Shutdown's releases: newest first, every one attempted, and one that never lets go named
// in the log — after SLOW_RELEASE_MS while it is awaited, and left behind at its bound.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../src/core/log.ts';
import { Releasers } from '../src/core/releasers.ts';

function capturedLog(): { log: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger({ level: 'debug', format: 'json' } as Parameters<typeof createLogger>[0], stream);
  return { log, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('releases run newest first; one that throws is logged and the rest still run', async () => {
  const { log, lines } = capturedLog();
  const order: string[] = [];
  const releasers = new Releasers();
  releasers.add('registry', () => void order.push('registry'));
  releasers.add('listener', () => {
    order.push('listener');
    throw new Error('socket already gone');
  });
  releasers.add('workers', async () => void order.push('workers'));
  await releasers.releaseAll(log);
  assert.deepEqual(order, ['workers', 'listener', 'registry']);
  const failed = lines().find((l) => l.msg === 'error while stopping');
  assert.equal(failed?.module, 'listener');
});

test('a release that never ends is named while awaited, and left behind at its bound; the rest still run', { timeout: 10_000 }, async () => {
  const { log, lines } = capturedLog();
  const order: string[] = [];
  const releasers = new Releasers();
  releasers.add('registry', () => void order.push('registry'));
  releasers.add('watcher /data', () => new Promise<void>(() => order.push('watcher, forever')), { timeoutMs: 300 });
  releasers.add('workers', () => void order.push('workers'));
  await releasers.releaseAll(log, 100);
  assert.deepEqual(order, ['workers', 'watcher, forever', 'registry']);
  const messages = lines().map((l) => `${String(l.module)}: ${String(l.msg)}`);
  assert.ok(messages.includes('watcher /data: still waiting for watcher /data to stop'), messages.join('\n'));
  assert.ok(messages.includes('watcher /data: watcher /data did not stop within 0.3 s; shutting down without waiting for it'), messages.join('\n'));
  assert.ok(messages.includes('registry: stopped'), 'the release after it ran');
  assert.ok(!messages.some((m) => m.startsWith('workers: still waiting')), 'a quick release is not called slow');
});

test('without a bound a slow release is awaited to its end', async () => {
  const { log, lines } = capturedLog();
  const releasers = new Releasers();
  let done = false;
  releasers.add('workers', () => new Promise<void>((resolve) => setTimeout(() => ((done = true), resolve()), 250)));
  await releasers.releaseAll(log, 50);
  assert.equal(done, true);
  const messages = lines().map((l) => String(l.msg));
  assert.ok(messages.includes('still waiting for workers to stop'));
  assert.ok(!messages.some((m) => m.includes('without waiting')));
});
