// The training stream: valid train rows of every partition, through a seeded shuffle buffer,
// into batches written straight into typed arrays. Nothing loads a whole partition, and
// the stream can start again at any cursor (exact resume).
import { Rng, mixSeed, shuffled } from '../../core/rng.ts';
import { RowCache } from './row-cache.ts';
import { vocabularyEncoding } from './category-values.ts';
import { standardise } from './feature-stats.ts';
import { type TrainingPartition, type ColumnSpec, type SplitSpec, type FeatureStats, type DataCursor, type RowCounts, categoricalSlots, inputWidth } from './stream-spec.ts';
import { validRowChunks } from './valid-rows.ts';

export interface Batch {
  x: Float32Array;
  y: Float32Array;
  /** The cursor after this batch: where a resumed stream continues. */
  cursor: DataCursor;
}

export interface TrainStreamOptions {
  columns: ColumnSpec;
  split: SplitSpec;
  stats: FeatureStats;
  batchSize: number;
  shuffleBuffer: number;
  /** Counts of invalid rows skipped, for the run's report. */
  counts?: RowCounts;
  /** Where the stream keeps its parsed rows between passes (row-cache.ts); unset: every pass parses. */
  cacheDir?: string;
}

/**
 * An endless stream of training batches: pass after pass over the partitions, each pass
 * with its own seeded partition order and shuffle, so (seed, pass, offset) pins down the
 * stream exactly and a resumed run sees the same batches as one that never stopped.
 */
export async function* trainBatches(partitions: readonly TrainingPartition[], options: TrainStreamOptions, from: DataCursor): AsyncGenerator<Batch> {
  const { columns, split, stats, batchSize } = options;
  const dim = inputWidth(columns);
  const ids = categoricalSlots(columns).length;
  const categories = vocabularyEncoding(columns, stats.categorical);
  const cache = options.cacheDir ? new RowCache(options.cacheDir) : undefined;
  const width = dim + 1;
  const capacity = Math.max(1, options.shuffleBuffer);
  const buffer = new Float32Array(capacity * width);
  let bx = new Float32Array(batchSize * dim);
  let by = new Float32Array(batchSize);
  let filled = 0;
  for (let pass = from.pass; ; pass++) {
    const rng = new Rng(mixSeed(split.seed, pass, 0x5eed));
    const order = shuffled(partitions, rng);
    let buffered = 0;
    let emitted = 0;
    let produced = 0;
    const skip = pass === from.pass ? from.offset : 0;
    const ready: Batch[] = [];
    const emit = (slot: number): void => {
      emitted += 1;
      if (emitted <= skip) return;
      bx.set(buffer.subarray(slot * width, slot * width + dim), filled * dim);
      by[filled] = buffer[slot * width + dim]!;
      filled += 1;
      if (filled === batchSize) {
        ready.push({ x: bx, y: by, cursor: { pass, offset: emitted } });
        bx = new Float32Array(batchSize * dim);
        by = new Float32Array(batchSize);
        filled = 0;
      }
    };
    const counts = pass === from.pass && options.counts ? options.counts : { rows: 0, invalid: 0 };
    for await (const chunk of validRowChunks(order, columns, split, 'train', counts, categories, cache)) {
      for (let r = 0; r < chunk.rows; r++) {
        const row = chunk.values.subarray(r * width, r * width + width);
        produced += 1;
        let slot = buffered;
        if (buffered < capacity) buffered += 1;
        else {
          slot = rng.int(capacity);
          emit(slot);
        }
        standardise(row, stats, buffer, slot * width, ids);
        buffer[slot * width + dim] = row[dim]!;
      }
      // Hand out finished batches chunk by chunk: memory stays bounded by the buffer.
      yield* ready.splice(0);
    }
    if (produced === 0) throw new Error('no valid training rows in the partitions');
    // Drain: emit what is left in random order.
    while (buffered > 0) {
      const slot = rng.int(buffered);
      emit(slot);
      buffered -= 1;
      if (slot !== buffered) buffer.copyWithin(slot * width, buffered * width, buffered * width + width);
    }
    yield* ready.splice(0);
  }
}
