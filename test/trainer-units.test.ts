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
import { advanceStep, checkpointDue, closeEpoch, initialState } from '../src/trainer/run/run-state.ts';
import { LossLog } from '../src/trainer/run/loss-log.ts';
import { Evaluator } from '../src/trainer/run/evaluator.ts';
import type { FeatureStats } from '../src/trainer/stream/stream-spec.ts';

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

describe('the run loop’s units', () => {
  const stats = { numeric: [], categorical: [] } as unknown as FeatureStats;
  const fresh = (stepsPerEpoch = 4) =>
    initialState({ loaded: undefined, continuing: false, lineage: { id: '1', steps_per_epoch: stepsPerEpoch }, run: { id: '7' } }, { learningRate: 0.01, seed: 3 }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, stats);

  test('run state: a new run starts at zero; a base carries step and epoch but not the counters; a resume carries everything', () => {
    const base = fresh();
    assert.deepEqual([base.globalStep, base.virtualEpoch, base.stepInEpoch, base.runId, base.seed], [0, 0, 0, '7', 3]);
    const saved = { ...fresh(), globalStep: 10, virtualEpoch: 2, stepInEpoch: 2, cursor: { pass: 1, offset: 40 }, epochLoss: { sum: 3, count: 2 }, earlyStopping: { best: 1, bestStep: 8, wait: 1, stopped: false }, invalidRows: 5 };
    const fromBase = initialState({ loaded: { state: saved } as never, continuing: false, lineage: { id: '1', steps_per_epoch: 4 }, run: { id: '8' } }, { learningRate: 0.01, seed: 3 }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, stats);
    assert.deepEqual([fromBase.globalStep, fromBase.virtualEpoch, fromBase.stepInEpoch, fromBase.cursor.offset, fromBase.epochLoss.count, fromBase.earlyStopping.best, fromBase.invalidRows], [10, 2, 0, 0, 0, null, 0]);
    const resumed = initialState({ loaded: { state: saved } as never, continuing: true, lineage: { id: '1', steps_per_epoch: 4 }, run: { id: '7' } }, { learningRate: 0.01, seed: 3 }, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, stats);
    assert.deepEqual([resumed.stepInEpoch, resumed.cursor.offset, resumed.epochLoss.count, resumed.earlyStopping.best, resumed.invalidRows], [2, 40, 2, 1, 5]);
  });

  test('run state: steps close a virtual epoch at stepsPerEpoch; the due checkpoints are epoch ends, periodic ones and early steps', () => {
    const state = fresh(4);
    const due: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      advanceStep(state, { pass: 0, offset: (i + 1) * 2 });
      const kind = checkpointDue(state, 3, new Set([1]));
      due.push(`${state.globalStep}:${kind}`);
      if (kind === 'epoch-end') closeEpoch(state, { sum: 8, count: 4 });
    }
    assert.deepEqual(due, ['1:early', '2:null', '3:periodic', '4:epoch-end', '5:null', '6:periodic', '7:null', '8:epoch-end']);
    assert.deepEqual([state.virtualEpoch, state.stepInEpoch, state.trainLoss, state.cursor.offset], [2, 0, 2, 16]);
    assert.throws(() => closeEpoch(state, { sum: Number.NaN, count: 4 }), /training loss became NaN in virtual epoch 3/);
  });

  test('loss log: reads back every logEvery steps, plus early steps and powers of two below logEvery when the lineage has early steps', () => {
    const plain = new LossLog(8, new Set(), { sum: 0, count: 0 });
    assert.deepEqual([1, 2, 4, 7, 8, 16].filter((s) => plain.readsBackAt(s)), [8, 16]);
    const early = new LossLog(8, new Set([3, 5]), { sum: 0, count: 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 12, 16].filter((s) => early.readsBackAt(s)), [1, 2, 3, 4, 5, 8, 16]);
  });

  test('loss log: a point is the mean since the previous point, starting from a resumed epoch’s sum', () => {
    const log = new LossLog(2, new Set(), { sum: 10, count: 5 });
    assert.equal(log.point({ sum: 14, count: 7 }), 2);
    assert.equal(log.point({ sum: 20, count: 9 }), 3);
    assert.equal(log.last, 3);
    log.resetEpoch();
    assert.equal(log.point({ sum: 1, count: 2 }), 0.5);
  });

  test('evaluator: measure records loss and metrics; only a check moves early stopping', () => {
    const state = fresh();
    const losses = [0.5, 0.4, 0.6];
    const evaluator = new Evaluator(() => ({ valLoss: losses.shift()!, metrics: { mae: 1 } }), { enabled: true, patience: 1, minDelta: 0, startFromEpoch: 0 }, state);
    evaluator.measure();
    assert.deepEqual([state.valLoss, state.metrics.mae, state.earlyStopping.best], [0.5, 1, null]);
    state.globalStep = 4;
    evaluator.check();
    assert.deepEqual([state.earlyStopping.best, state.earlyStopping.bestStep], [0.4, 4]);
    evaluator.check();
    assert.equal(state.earlyStopping.stopped, true);
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
