// The drift measures on samples (data/drift.ts): the same distribution reads near 0 at the
// statistics' sample size (the sampling bias is subtracted, rare categories share a bin),
// and a shifted one reads high.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../src/core/rng.ts';
import { columnDrift, driftReference, summarizePartition, ValueSampler, type PartitionStats } from '../src/data/index.ts';

const AIRPORTS = Array.from({ length: 200 }, (_, i) => `A${i}`);

/** A partition of `rows` rows, `sampled` of them in its sample: x ~ N(shift, 1), a Zipf-like airport. */
function partition(seed: number, rows: number, sampled: number, shift = 0, airports = AIRPORTS): PartitionStats {
  const rng = new Rng(seed);
  const sampler = new ValueSampler(['x', 'airport'], new Set([1]));
  for (let i = 0; i < sampled; i++) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    sampler.add(0, gaussian + shift);
    sampler.add(1, airports[Math.floor(airports.length * rng.next() ** 2)]!);
  }
  return summarizePartition(rows, [0, 0], sampler.toJSON(), new Set(['airport']));
}

test('unchanged data reads near 0 at 256 sampled values; a shift of one standard deviation and renamed airports read high', () => {
  const reference = driftReference(Array.from({ length: 7 }, (_, d) => partition(d + 1, 15_000, 256)));
  for (let seed = 100; seed < 110; seed++) {
    const same = Object.fromEntries(columnDrift(reference, [partition(seed, 15_000, 256)]).map((d) => [d.column, d.value]));
    assert.ok(same.x! < 0.1, `PSI ${same.x} for the same distribution`);
    assert.ok(same.airport! < 0.15, `JS distance ${same.airport} for the same distribution (without the bias correction about 0.4)`);
  }
  // The twenty busiest airports renamed: their traffic moves to values the reference never had.
  // (Renames among the rare ones fold into one bin with the other rare values, invisible to
  // the distance by design: never-seen values are the schema's anomaly, data-schema.ts.)
  const shifted = Object.fromEntries(columnDrift(reference, [partition(200, 15_000, 256, 1, AIRPORTS.map((a, i) => (i < 20 ? `${a}x` : a)))]).map((d) => [d.column, d.value]));
  assert.ok(shifted.x! > 0.5, `PSI ${shifted.x} after a one-standard-deviation shift`);
  assert.ok(shifted.airport! > 0.3, `JS distance ${shifted.airport} with the busiest airports renamed`);
});
