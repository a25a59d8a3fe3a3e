// The knee rule on step-level loss curves of real shape: a seeded heavy-tailed noise around
// a fast early drop, a drop then a slow drift, spikes, a step change after a data shift, a
// curve flat from the start, one still falling like a straight line, one too short; and
// bad input rejected with a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KNEE, findKnee, KneeInputError, nonIncreasingFit, runningMedian } from '../src/selection/knee.ts';
import { Rng } from '../src/core/rng.ts';

/** Steps as freshet logs them: log-spaced early checkpoints' points, then every 50 steps. */
function steps(last: number): number[] {
  const early = [16, 32, 64, 128, 256].filter((s) => s < last);
  const regular: number[] = [];
  for (let s = 50; s <= last; s += 50) regular.push(s);
  return [...new Set([...early, ...regular])].sort((a, b) => a - b);
}

/** Heavy-tailed noise: mostly small, now and then a batch of large delays (a Pareto-like tail). */
function heavyTail(rng: Rng, scale: number): number {
  const u = rng.next();
  return u < 0.9 ? (rng.next() - 0.5) * scale : scale * (1 / Math.max(0.02, rng.next()) - 1);
}

const curve = (last: number, shape: (step: number) => number, noise: (step: number) => number = () => 0) => steps(last).map((step) => ({ step, loss: shape(step) + noise(step) }));

test('running median and the non-increasing fit', () => {
  assert.deepEqual(runningMedian([1, 100, 3, 4, 5], 3), [1, 3, 4, 4, 5]);
  assert.deepEqual(runningMedian([9, 1, 100, 3, 4, 5, 0], 5), [9, 9, 4, 4, 4, 4, 0], 'the window shrinks symmetrically at the ends');
  assert.deepEqual(nonIncreasingFit([5, 4, 6, 2, 3, 1]), [5, 5, 5, 2.5, 2.5, 1]);
  assert.deepEqual(nonIncreasingFit([1, 2, 3]), [2, 2, 2], 'a rising curve is flat at its mean');
});

test('a sharp early drop under heavy-tailed noise: the knee is at the end of the drop, not in the noise', () => {
  // The flight-delay shape: MAE falls from ~40 to ~17 in the first ~200 steps, then wanders.
  const rng = new Rng(7);
  const points = curve(5800, (s) => 17 + 23 * Math.exp(-s / 60), () => heavyTail(rng, 3));
  const knee = findKnee(points);
  assert.ok(knee.kneeStep !== null, knee.reason);
  assert.ok(knee.kneeStep >= 64 && knee.kneeStep <= 400, `knee at ${knee.kneeStep}: ${knee.reason}`);
  assert.ok(knee.smoothed[0]! > knee.endLevel + 10, 'the descent is seen through the noise');
});

test('a drop then a slow drift: the knee is the end of the drop, the drift does not move it far', () => {
  const points = curve(4000, (s) => 2 + 8 * Math.exp(-s / 100) - 0.0001 * s);
  const knee = findKnee(points);
  assert.ok(knee.kneeStep! >= 150 && knee.kneeStep! <= 500, `${knee.kneeStep}: ${knee.reason}`);
});

test('spikes do not make knees', () => {
  const points = curve(3000, (s) => 1 + 4 * Math.exp(-s / 150)).map((p, i) => (i % 7 === 3 ? { ...p, loss: p.loss * 8 } : p));
  const clean = findKnee(curve(3000, (s) => 1 + 4 * Math.exp(-s / 150)));
  const spiky = findKnee(points);
  assert.ok(Math.abs(spiky.kneeStep! - clean.kneeStep!) <= 150, `spiky ${spiky.kneeStep} vs clean ${clean.kneeStep}`);
});

test('a step change after a data shift: the loss jumps and falls again; the knee stays on a descent', () => {
  const points = curve(6000, (s) => (s < 3000 ? 1 + 5 * Math.exp(-s / 100) : 3 + 2 * Math.exp(-(s - 3000) / 100)));
  const knee = findKnee(points);
  assert.ok(knee.kneeStep !== null, knee.reason);
  // The non-increasing fit pools the jump into the first plateau, so the knee is the end
  // of the first (larger) descent, and the point there is still above that plateau's level.
  assert.ok(knee.kneeStep! < 3000, `the first descent's end (${knee.kneeStep}): ${knee.reason}`);
  assert.ok(points[knee.kneeIndex!]!.loss > 1.05, `on the way down: ${points[knee.kneeIndex!]!.loss}`);
});

test('flat from the start, still falling like a straight line, too short: no knee, and the reason says which', () => {
  const rng = new Rng(3);
  const flat = findKnee(curve(3000, () => 5, () => (rng.next() - 0.5) * 0.05));
  assert.equal(flat.kneeStep, null);
  assert.match(flat.reason, /no descent: the smoothed loss falls .*under plateau.minDrop 2%/);
  const linear = findKnee(curve(3000, (s) => 10 - s / 1000));
  assert.equal(linear.kneeStep, null);
  assert.match(linear.reason, /no bend yet/);
  const short = findKnee([{ step: 16, loss: 5 }, { step: 32, loss: 3 }]);
  assert.equal(short.kneeStep, null);
  assert.match(short.reason, /too short to find a knee \(2 loss points; needs 5\)/);
});

test('bad input and bad options are rejected with what is wrong', () => {
  assert.throws(() => findKnee([{ step: 1, loss: 1 }, { step: 2, loss: Number.NaN }]), (e: Error) => e instanceof KneeInputError && /loss point 1 \(step 2\) is NaN/.test(e.message));
  assert.throws(() => findKnee([{ step: 2, loss: 1 }, { step: 2, loss: 1 }]), /increasing step order: step 2 follows 2/);
  assert.throws(() => findKnee([], { ...DEFAULT_KNEE, smoothWindow: 4 }), /smoothWindow must be an odd positive integer, got 4/);
  assert.throws(() => findKnee([], { ...DEFAULT_KNEE, minDrop: 1 }), /minDrop must be in \[0, 1\)/);
  assert.throws(() => findKnee([], { ...DEFAULT_KNEE, minDistance: -0.1 }), /minDistance/);
});

test('bad knee options in the configuration are rejected naming the key', async () => {
  const { loadConfig } = await import('../src/core/config.ts');
  assert.throws(() => loadConfig({ env: { FRESHET_PLATEAU__SMOOTH_WINDOW: '4' }, cwd: '/tmp' }), /plateau\.smoothWindow.*must be odd/s);
  assert.throws(() => loadConfig({ env: { FRESHET_PLATEAU__METHOD: 'elbow' }, cwd: '/tmp' }), /plateau\.method/);
  assert.throws(() => loadConfig({ env: { FRESHET_PLATEAU__MIN_DROP: '1' }, cwd: '/tmp' }), /plateau\.minDrop/);
  assert.throws(() => loadConfig({ env: { FRESHET_TRAINING__EARLY_CHECKPOINTS__FIRST_STEP: '-1' }, cwd: '/tmp' }), /training\.earlyCheckpoints\.firstStep/);
});
