// Plateau detection on synthetic curves (a pure function: no database, no training).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATEAU, detectPlateau, PlateauInputError, smooth } from '../src/selection/plateau.ts';
import { Rng } from '../src/core/rng.ts';

const decay = (n: number, rate: number, floor = 0.1): number[] => Array.from({ length: n }, (_, i) => floor + Math.exp(-rate * i));

test('smoothing is the EMA of docs/definitions.md', () => {
  assert.deepEqual(smooth([4, 2, 2, 0], 0.5), [4, 3, 2.5, 1.25]);
  assert.deepEqual(smooth([4, 2], 1), [4, 2]);
});

test('clean exponential decay: the plateau starts where the next 3 points gain ≤ 5% of the descent so far', () => {
  const losses = decay(20, 0.5);
  const result = detectPlateau(losses);
  // Check the definition directly at the answer and just before it.
  const s = result.smoothed;
  const p = result.plateauStart!;
  assert.ok(p !== null);
  assert.ok(s[p]! - s[p + 3]! <= 0.05 * (s[0]! - s[p]!));
  assert.ok(s[p - 1]! - s[p + 2]! > 0.05 * (s[0]! - s[p - 1]!), 'not one point earlier');
  assert.equal(result.chosen, p - 1);
  assert.match(result.reason, new RegExp(`^plateau began at virtual epoch ${p}: the next 3 checkpoints gain \\d+\\.\\d% of the descent so far \\(≤ 5%\\); chose virtual epoch ${p - 1}$`));
  // Labels name the points in the reason (virtual epochs start at 1).
  assert.match(detectPlateau(losses, DEFAULT_PLATEAU, losses.map((_, i) => i + 1)).reason, new RegExp(`chose virtual epoch ${p}$`));
  // A slower decay plateaus later.
  assert.ok(detectPlateau(decay(40, 0.2)).plateauStart! > p);
});

test('decay with noise: smoothing keeps the answer near the clean one', () => {
  const clean = detectPlateau(decay(30, 0.4)).plateauStart!;
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed);
    const noisy = decay(30, 0.4).map((l) => l * (1 + (rng.next() - 0.5) * 0.04));
    const found = detectPlateau(noisy).plateauStart!;
    assert.ok(Math.abs(found - clean) <= 2, `seed ${seed}: ${found} vs clean ${clean}`);
  }
});

test('step-shaped curve: the first flat stretch is the plateau, before the second drop', () => {
  const losses = [1, 1, 1, 1, 1, 1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
  // Flat from the start: nothing gained and nothing to gain over the next 3 → plateau at 1.
  assert.equal(detectPlateau(losses).plateauStart, 1);
  // Descent, a long flat stretch (indices 3–10), a second drop: the plateau lies in the stretch.
  const afterDrop = [1, 0.4, 0.32, ...Array(8).fill(0.3), 0.05, 0.05, 0.05, 0.05, 0.05];
  const result = detectPlateau(afterDrop);
  assert.ok(result.plateauStart! >= 3 && result.plateauStart! <= 7, `plateau at ${result.plateauStart}`);
  // A stretch shorter than the window is not a plateau: the next drop is in view.
  const shortStretch = [1, 0.4, 0.32, 0.3, 0.3, 0.3, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];
  assert.ok(detectPlateau(shortStretch).plateauStart! >= 6, 'only after the second drop');
});

test('flat from the start: a plateau at once, and the first checkpoint is chosen', () => {
  const result = detectPlateau([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  assert.equal(result.plateauStart, 1);
  assert.equal(result.chosen, 0);
  assert.match(result.reason, /after no descent/);
});

test('too short to judge, or still descending: the latest checkpoint, said so', () => {
  const short = detectPlateau([1, 0.5, 0.3, 0.2]);
  assert.equal(short.plateauStart, null);
  assert.equal(short.chosen, 3);
  assert.match(short.reason, /^too short to judge \(4 checkpoints; needs 5\): chose the latest, virtual epoch 3$/);
  const single = detectPlateau([1]);
  assert.equal(single.chosen, 0);
  const descending = detectPlateau([10, 8, 6, 4, 2, 1, 0.5]);
  assert.equal(descending.plateauStart, null);
  assert.match(descending.reason, /^no plateau yet in 7 checkpoints: chose the latest/);
});

test('non-finite or empty input and bad options are rejected with a clear error', () => {
  assert.throws(() => detectPlateau([1, 0.5, Number.NaN, 0.2]), (e: Error) => e instanceof PlateauInputError && e.message === 'loss at index 2 is NaN: plateau detection needs finite losses');
  assert.throws(() => detectPlateau([1, Number.POSITIVE_INFINITY]), /index 1 is Infinity/);
  assert.throws(() => detectPlateau([]), /empty/);
  assert.throws(() => detectPlateau([1, 2], { ...DEFAULT_PLATEAU, alpha: 0 }), /alpha must be in \(0, 1\]/);
  assert.throws(() => detectPlateau([1, 2], { ...DEFAULT_PLATEAU, window: 0 }), /window/);
  assert.throws(() => detectPlateau([1, 2], { ...DEFAULT_PLATEAU, offset: -1 }), /offset/);
});

test('offset 0 chooses the plateau start itself; a large offset stops at the first checkpoint', () => {
  const losses = decay(20, 0.5);
  const p = detectPlateau(losses).plateauStart!;
  assert.equal(detectPlateau(losses, { ...DEFAULT_PLATEAU, offset: 0 }).chosen, p);
  assert.equal(detectPlateau(losses, { ...DEFAULT_PLATEAU, offset: 100 }).chosen, 0);
});
