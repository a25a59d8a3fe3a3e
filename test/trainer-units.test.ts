// The trainer's pure parts: virtual-epoch arithmetic, early stopping, metrics, seeded RNG,
// and the atomic checkpoint directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { CorruptDirError, effectiveStopPoint, initialEarlyStopping, readDirVerified, stepsPerEpoch, updateEarlyStopping, writeDirAtomically } from '../src/trainer/index.ts';
import { rocAuc, logLoss } from '../src/core/eval-metrics.ts';
import { Rng, mixSeed } from '../src/core/rng.ts';
import { createLogger } from '../src/core/log.ts';
import { combineObservers } from '../src/trainer/run/train-observer.ts';
import { tempDir } from './support/partitions.ts';

describe('virtual epochs', () => {
  test('the book’s example: 15 M examples, stop point 14.3, batch 100, 15 checkpoints → 143,000 steps', () => {
    assert.equal(stepsPerEpoch(15_000_000, { batchSize: 100, numCheckpoints: 15, stopPoint: 14.3 }), 143_000);
  });

  test('at least one step; refuses an empty training set', () => {
    assert.equal(stepsPerEpoch(10, { batchSize: 256, numCheckpoints: 15, stopPoint: 1 }), 1);
    assert.throws(() => stepsPerEpoch(0, { batchSize: 256, numCheckpoints: 15, stopPoint: 3 }), /0 training examples/);
  });

  test('the effective stop point shrinks as data grows while the steps stay fixed', () => {
    const steps = stepsPerEpoch(15_000_000, { batchSize: 100, numCheckpoints: 15, stopPoint: 14.3 });
    assert.equal(effectiveStopPoint(steps, { batchSize: 100, numCheckpoints: 15 }, 15_000_000), 14.3);
    assert.ok(Math.abs(effectiveStopPoint(steps, { batchSize: 100, numCheckpoints: 15 }, 30_000_000) - 7.15) < 1e-9);
  });
});

describe('early stopping (Keras semantics)', () => {
  const args = { enabled: true, patience: 2, minDelta: 0, startFromEpoch: 0 };
  const feed = (losses: number[], a = args) => {
    let state = initialEarlyStopping();
    const history = [];
    for (const [i, loss] of losses.entries()) {
      state = updateEarlyStopping(state, a, loss, { step: (i + 1) * 10, virtualEpoch: i + 1 });
      history.push(state);
    }
    return history;
  };

  test('improvement resets wait; patience checks without improvement stop; best step is remembered', () => {
    const h = feed([1, 0.8, 0.9, 0.85, 0.7]);
    assert.deepEqual(h.slice(0, 4).map((s) => s.wait), [0, 0, 1, 2]);
    assert.equal(h[3]!.stopped, true, 'stops after 2 checks without improvement');
    assert.equal(h[3]!.best, 0.8);
    assert.equal(h[3]!.bestStep, 20);
  });

  test('a rising loss that falls again within patience does not stop', () => {
    const h = feed([1, 1.1, 0.5]);
    assert.equal(h.some((s) => s.stopped), false);
    assert.equal(h[2]!.best, 0.5);
  });

  test('minDelta: improvement must exceed it', () => {
    const h = feed([1, 0.99, 0.98], { ...args, minDelta: 0.05 });
    assert.equal(h[2]!.stopped, true);
    assert.equal(h[2]!.best, 1);
  });

  test('startFromEpoch: earlier checks are ignored entirely', () => {
    const h = feed([1, 2, 3, 0.5], { ...args, startFromEpoch: 3 });
    assert.equal(h[1]!.best, null);
    assert.equal(h[2]!.best, 3);
    assert.equal(h[3]!.best, 0.5);
  });

  test('disabled: tracks the best but never stops; NaN never improves', () => {
    const h = feed([1, Number.NaN, 2, 3], { ...args, enabled: false });
    assert.equal(h.at(-1)!.stopped, false);
    assert.equal(h.at(-1)!.best, 1);
    assert.equal(h.at(-1)!.wait, 3);
  });
});

describe('metrics', () => {
  test('AUC by ranks, ties averaged; log loss clipped', () => {
    assert.equal(rocAuc(Float32Array.of(0, 0, 1, 1), Float32Array.of(0.1, 0.4, 0.35, 0.8)), 0.75);
    assert.equal(rocAuc(Float32Array.of(0, 1), Float32Array.of(0.5, 0.5)), 0.5);
    assert.ok(Number.isNaN(rocAuc(Float32Array.of(1, 1), Float32Array.of(0.2, 0.3))));
    assert.ok(Math.abs(logLoss(Float32Array.of(1, 0), Float32Array.of(1, 0)) - 1e-7) < 1e-9);
  });
});

describe('seeded randomness', () => {
  test('the same seed gives the same stream; a restored state continues it', () => {
    const a = new Rng(7);
    const first = [a.next(), a.next()];
    const b = new Rng(7);
    assert.deepEqual([b.next(), b.next()], first);
    const resumed = new Rng(b.state);
    assert.equal(resumed.next(), b.next());
    assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  });
});

describe('atomic checkpoint directories', () => {
  test('writes every file with a manifest, leaves no temp dir, and verifies on read', async () => {
    const root = tempDir('freshet-atomic-');
    const dir = path.join(root, 'step-1');
    const written = await writeDirAtomically(dir, { 'a.bin': new Uint8Array([1, 2, 3]), 'b.json': '{"x":1}' });
    assert.deepEqual(fs.readdirSync(root), ['step-1']);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.bin', 'b.json', 'manifest.json']);
    const files = readDirVerified(dir, written.manifestSha256);
    assert.deepEqual([...files['a.bin']!], [1, 2, 3]);
  });

  test('a flipped byte, a missing file or a swapped manifest is refused naming the file', async () => {
    const dir = path.join(tempDir('freshet-atomic-'), 'ckpt');
    const written = await writeDirAtomically(dir, { 'weights.bin': new Uint8Array(64).fill(7), 'state.json': '{}' });
    const weights = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[10] = bytes[10]! ^ 1;
    fs.writeFileSync(weights, bytes);
    assert.throws(() => readDirVerified(dir), (e: Error) => e instanceof CorruptDirError && /weights\.bin is corrupted/.test(e.message));
    fs.rmSync(weights);
    assert.throws(() => readDirVerified(dir), /weights\.bin is missing/);
    assert.throws(() => readDirVerified(dir, 'f'.repeat(64)), /does not match the hash recorded in the registry/);
    void written;
  });

  test('an existing directory is replaced only when asked (a crash orphan)', async () => {
    const dir = path.join(tempDir('freshet-atomic-'), 'ckpt');
    await writeDirAtomically(dir, { 'a': 'one' });
    await assert.rejects(writeDirAtomically(dir, { 'a': 'two' }), /already exists/);
    await writeDirAtomically(dir, { 'a': 'two' }, { replace: true });
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'two');
    assert.equal(fs.readdirSync(path.dirname(dir)).length, 1, 'no temp directory left behind');
  });
});

describe('training observers', () => {
  test('every observer hears each event; one that throws is logged and skipped, the others still hear it', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', format: 'json' }, Object.assign(new PassThrough().on('data', (c: Buffer) => lines.push(c.toString())), { isTTY: false }));
    const heard: number[] = [];
    const observer = combineObservers(
      log,
      { onCheckpoint: () => { throw new Error('dashboard down'); } },
      undefined,
      { onCheckpoint: (e) => heard.push(e.globalStep) },
    );
    const event = { runId: '1', checkpointId: '2', globalStep: 40, virtualEpoch: 1, trainLoss: 1, valLoss: 1, bytes: 10, seconds: 0.1 };
    observer.onCheckpoint(event);
    observer.onProgress({ runId: '1', globalStep: 40, virtualEpoch: 1, stepInEpoch: 0, stepsPerEpoch: 40, targetEpochs: 2, loss: null }); // nobody listens: a no-op
    assert.deepEqual(heard, [40]);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"hook":"onCheckpoint".*a training observer failed/);
  });
});
