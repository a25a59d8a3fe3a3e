// The training stream, produced on a worker thread and consumed here: parsing CSV and
// filling batches overlaps the training step instead of adding to it (measured in
// BENCHMARKS.md). The worker runs the very same trainBatches(), so the batches, their
// order and the cursors are identical to the in-thread stream, and resume stays exact.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Batch, TrainStreamOptions } from './train-batches.ts';
import type { DataCursor, RowCounts, TrainingPartition } from './stream-spec.ts';
import { DataFileError, doorSetup } from '../../data/index.ts';
import { TrainingError } from '../../core/errors.ts';

/** Batches the worker sends in one message (fewer when fewer credits are left). */
export const BATCHES_PER_MESSAGE = 8;

type Message =
  | { batches: Batch[]; /** The invalid-row count as each batch was made. */ invalid: number[] }
  | { error: { name: string; message: string; file?: string; line?: number; column?: string } };

/**
 * Like trainBatches(), with up to `depth` batches prepared ahead on another thread. Why 64
 * (800 KB of a flights batch): the worker makes batches faster than a step uses them on
 * average, but in bursts (a new file, the garbage collector, the other core busy with a
 * gate); with 16 ahead the training loop of a flights backtest waited 6 s for batches,
 * with 64 it waits 3.5 s, most of it for each run's first batches (BENCHMARKS.md ›
 * Retrains three times faster).
 */
export async function* prefetchedBatches(
  partitions: readonly TrainingPartition[],
  options: TrainStreamOptions,
  from: DataCursor,
  depth = 8 * BATCHES_PER_MESSAGE,
): AsyncGenerator<Batch> {
  const { counts, ...plain } = options;
  const worker = new Worker(new URL('./batch-worker.ts', import.meta.url), {
    workerData: { partitions, options: plain, from, invalidSoFar: counts?.invalid ?? 0, doors: doorSetup() },
  });
  worker.unref(); // an abandoned stream must not keep the process alive
  const queue: Message[] = [];
  let failure: Error | undefined;
  let notify: (() => void) | undefined;
  worker.on('message', (message: Message) => {
    queue.push(message);
    notify?.();
  });
  worker.on('error', (error) => {
    failure = error;
    notify?.();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && !failure) failure = new Error(`the data worker exited with code ${code}`);
    notify?.();
  });
  worker.postMessage({ credits: depth });
  try {
    for (;;) {
      while (queue.length === 0 && !failure) await new Promise<void>((resolve) => (notify = resolve));
      const message = queue.shift();
      if (!message) throw failure!;
      if ('error' in message) {
        const { name, message: text, file, line, column } = message.error;
        if (name === 'MissingObjectError') {
          // Its data gone since the run started (an object deleted from the bucket): no retry brings it back.
          throw new TrainingError(`${text}: an object this run trains on is gone (deleted after it was registered); the run cannot go on with the data it started with`);
        }
        if (name === 'DataFileError' && file) {
          // Rebuild it so callers see the same error type and fields as in-thread.
          throw Object.assign(new DataFileError(file, text.slice(text.indexOf(': ') + 2), { line, column }), { message: text });
        }
        throw new Error(text);
      }
      for (const [i, batch] of message.batches.entries()) {
        if (counts) (counts as RowCounts).invalid = message.invalid[i]!;
        yield batch;
      }
      worker.postMessage({ credits: message.batches.length }); // the group is consumed: as many may come
    }
  } finally {
    await worker.terminate();
    // The worker's copies of the parsed rows go with it (it cannot clean up once terminated).
    if (options.cacheDir) fs.rmSync(options.cacheDir, { recursive: true, force: true });
  }
}

/**
 * `stream`, started now: its first batch is asked for at once, so the worker behind it
 * starts, reads and fills its shuffle buffer while the caller gets ready (a run restores
 * its model and reads its validation rows meanwhile: each run's first batches were ≈ 0.3 s
 * of waiting, BENCHMARKS.md › Retrains three times faster). The first next() hands that
 * answer back, a failure included; return() ends the stream as before (once the pending
 * first answer is in).
 */
export function startedNow<T>(stream: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  let first: Promise<IteratorResult<T, void>> | undefined = stream.next();
  first.catch(() => {}); // reported to whoever asks for the first batch, not as an unhandled rejection
  const started: AsyncGenerator<T, void, undefined> = {
    next: () => {
      const pending = first;
      first = undefined;
      return pending ?? stream.next();
    },
    return: (value) => {
      first = undefined;
      return stream.return(value);
    },
    throw: (error) => stream.throw(error),
    [Symbol.asyncIterator]: () => started,
    [Symbol.asyncDispose]: async () => {
      await started.return(undefined);
    },
  };
  return started;
}
