// eval.naiveConfidence: the naive rules ask for evidence. A model that scores worse than the
// naive baseline on the gate rows only within the noise is no longer refused for it
// (eval.mustBeatNaive) nor replaced by the constant (eval.fallback naive); one worse with
// the confidence is, as before. 0 keeps the strict rule. Pure: numbers in, decisions out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../src/core/config.ts';
import { Rng } from '../src/core/rng.ts';
import { fallbackDecision, gateDecision, gateScores } from '../src/promotion/index.ts';

const defaults = configSchema.parse({}).eval;

/**
 * 4,000 gate rows of a heavy-tailed label around 0, in 20 blocks whose level differs (days of
 * weather): the median predicts 0; a model off by `bias`, with noise `jitter` per row.
 */
function gateRows(seed: number): { y: Float32Array; model: (bias: number, jitter: number) => Float32Array } {
  const rng = new Rng(seed);
  const y = new Float32Array(4000);
  for (let i = 0; i < y.length; i++) {
    const day = Math.floor(i / 200);
    y[i] = (day % 3) - 1 + (rng.next() - 0.5) * 4 * (rng.next() < 0.1 ? 10 : 1);
  }
  return { y, model: (bias, jitter) => Float32Array.from(y, () => bias + (rng.next() - 0.5) * jitter) };
}

const scoresOf = (y: Float32Array, candidate: Float32Array, champion: Float32Array | null, naiveConfidence: number) =>
  gateScores({ metric: 'mae', task: 'regression', y, candidate, champion, naiveConstants: [{ name: 'median', value: 0 }], rules: { ...defaults, naiveConfidence }, seed: 7 });

test('evidence: a model a little worse than the median on the gate rows does not lose to it; one far worse does; 0 is the strict rule', () => {
  const { y, model } = gateRows(1);
  const slightly = model(0.02, 0.1); // worse than the median by a hair
  const far = model(1.5, 0.1);
  const strict = scoresOf(y, slightly, null, 0);
  assert.equal(strict.naiveEvidence, null, 'naiveConfidence 0: no evidence computed');
  assert.ok(strict.candidate > strict.naive!.metric, 'the slightly-off model scores worse than the median');
  const sure = scoresOf(y, slightly, far, 0.9);
  assert.deepEqual(sure.naiveEvidence?.candidateLosesTo, { naive: false, constant: false });
  assert.deepEqual(sure.naiveEvidence?.championLosesTo, { naive: true, constant: true });
});

test('evidence: the candidate within the noise of the median is held to the champion instead; the strict rule refuses it', () => {
  const { y, model } = gateRows(2);
  const candidate = model(0.02, 0.1);
  const champion = model(0.6, 0.1); // clearly worse than both
  const rules = { ...defaults, fallback: 'naive' as const, naiveConfidence: 0.9 };
  const scores = scoresOf(y, candidate, champion, 0.9);
  const input = { metric: 'mae' as const, candidate: scores.candidate, champion: scores.champion, naive: scores.naive, naiveConstant: scores.naiveConstant, interval: scores.interval, evalRows: y.length };
  const strict = gateDecision(input, { ...rules, naiveConfidence: 0 });
  assert.equal(strict.promote, false);
  assert.match(strict.reason, /does no better than the naive baseline/);
  const withEvidence = gateDecision({ ...input, naiveEvidence: scores.naiveEvidence }, rules);
  assert.equal(withEvidence.promote, true, withEvidence.reason);
  assert.match(withEvidence.reason, /scores no better than the median .* but not clearly worse at 90% \(eval\.naiveConfidence\)/);

  const far = scoresOf(y, model(1.5, 0.1), champion, 0.9);
  const refused = gateDecision({ ...input, candidate: far.candidate, interval: far.interval, naiveEvidence: far.naiveEvidence }, rules);
  assert.equal(refused.promote, false);
  assert.match(refused.reason, /is worse than the naive baseline, the median .* with 90% confidence \(eval\.naiveConfidence\): not promoted/);
});

test('evidence: the constant replaces a model champion only when the champion is clearly worse', () => {
  const base = { metric: 'mae' as const, candidatePromoted: false, championConstant: null, naive: { name: 'median' as const, value: 0, metric: 1 }, evalRows: 4000 };
  const rules = { fallback: 'naive' as const };
  assert.ok(fallbackDecision({ ...base, champion: 1.01 }, rules), 'strict: no better is enough');
  assert.equal(fallbackDecision({ ...base, champion: 1.01, championClearlyWorse: false }, rules), undefined, 'within the noise: the champion keeps serving');
  const fellBack = fallbackDecision({ ...base, champion: 1.3, championClearlyWorse: true }, rules);
  assert.match(fellBack!.reason, /is clearly worse than the naive baseline/);
  assert.ok(fallbackDecision({ ...base, champion: null, championClearlyWorse: false }, rules), 'no model yet: the constant serves whatever the evidence');
});
