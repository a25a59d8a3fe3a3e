// The training stream, produced on a worker thread and consumed here: parsing CSV and
// filling batches overlaps the training step instead of adding to it (measured in
// BENCHMARKS.md). The worker runs the very same trainBatches(), so the batches, their
// order and the cursors are identical to the in-thread stream, and resume stays exact.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Batch, TrainStreamOptions } from './train-batches.ts';
import type { DataCursor, RowCounts, TrainingPartition } from './stream-spec.ts';
import type { StreamCommand, StreamRequest } from './batch-worker.ts';
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
  const worker = streamWorker();
  const queue: Message[] = [];
  let failure: Error | undefined;
  let gone = false; // the thread crashed or exited: nothing to stop, nothing to keep
  let notify: (() => void) | undefined;
  let stopped: (() => void) | undefined;
  const onMessage = (message: Message | { stopped: true }) => {
    if ('stopped' in message) return stopped?.();
    queue.push(message);
    notify?.();
  };
  const onError = (error: Error) => {
    failure = error;
    gone = true;
    notify?.();
    stopped?.();
  };
  const onExit = (code: number) => {
    if (!failure) failure = new Error(`the data worker exited with code ${code}`);
    gone = true;
    notify?.();
    stopped?.();
  };
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.on('exit', onExit);
  const request: StreamRequest = { partitions, options: plain, from, invalidSoFar: counts?.invalid ?? 0, doors: doorSetup() };
  worker.postMessage({ start: request } satisfies StreamCommand);
  worker.postMessage({ credits: depth } satisfies StreamCommand);
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
      worker.postMessage({ credits: message.batches.length } satisfies StreamCommand); // the group is consumed: as many may come
    }
  } finally {
    const done = gone || (await stopStream(worker, (resolve) => (stopped = resolve)));
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    if (done && !gone) park(worker);
    else if (!gone) await worker.terminate(); // it did not let go in time: as before this thread was kept, end it
    // The stream's copies of the parsed rows go with it (its files are closed once it has stopped).
    if (options.cacheDir) fs.rmSync(options.cacheDir, { recursive: true, force: true });
  }
}

/** How long a stopping stream may take to let go of its files before its thread is ended instead. */
const STOP_TIMEOUT_MS = 10_000;

/** Asks the thread to end its stream; true once it has, false if it did not in STOP_TIMEOUT_MS. */
function stopStream(worker: Worker, onStopped: (resolve: () => void) => void): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
    timer.unref();
    onStopped(() => {
      clearTimeout(timer);
      resolve(true);
    });
    worker.postMessage({ stop: true } satisfies StreamCommand);
  });
}

// The one thread kept between streams (runs follow one another in a process; a second
// stream at the same time gets a thread of its own, ended when it stops). An idle thread
// holds ≈ 45 MiB (its own JavaScript heap and the data modules), so it is ended after
// PARKED_IDLE_MS without a stream: a backtest's runs follow each other within seconds, a
// daemon retraining hourly pays the ≈ 0.3 s start again rather than holding it.
const PARKED_IDLE_MS = 10 * 60_000;
let parked: { worker: Worker; forget: () => void; idle: NodeJS.Timeout } | undefined;
let started = 0;

/** Threads the streams of this process have started (for the tests: a second stream reuses the first's). */
export function streamWorkersStarted(): number {
  return started;
}

function streamWorker(): Worker {
  if (parked) {
    const { worker, forget, idle } = parked;
    parked = undefined;
    clearTimeout(idle);
    worker.off('error', forget);
    worker.off('exit', forget);
    return worker;
  }
  started += 1;
  const worker = new Worker(new URL('./batch-worker.ts', import.meta.url));
  worker.unref(); // an abandoned or parked stream must not keep the process alive
  return worker;
}

function park(worker: Worker): void {
  if (parked) {
    void worker.terminate();
    return;
  }
  // A parked thread that fails is simply not reused (and its error is not an unhandled one).
  const forget = () => {
    if (parked?.worker !== worker) return;
    clearTimeout(parked.idle);
    parked = undefined;
  };
  const idle = setTimeout(() => {
    forget();
    void worker.terminate();
  }, PARKED_IDLE_MS);
  idle.unref();
  parked = { worker, forget, idle };
  worker.on('error', forget);
  worker.on('exit', forget);
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
