// Worker-thread side of prefetchedBatches(): runs the training stream (reading, parsing,
// shuffling, batching) on the second core so the main thread only trains. Batches go to
// the main thread as transferred buffers (no copy), BATCHES_PER_MESSAGE to a message (a
// message each way per batch was 2 s of a flights backtest's 60); the main thread grants
// credits so at most `depth` batches are in flight.
//
// One stream at a time, and one after another: `start` begins a stream, `stop` ends it
// (the thread answers `stopped` once it has let go of the stream's files), and the thread
// waits for the next `start`. Why: a thread starts in ≈ 0.3 s (Node's start-up and this
// module graph), which every run of a backtest or a daemon paid before its first batch.
import { parentPort } from 'node:worker_threads';
import { configureDoors, type DoorSetup } from '../../data/index.ts';
import { trainBatches, type Batch, type TrainStreamOptions } from './train-batches.ts';
import { BATCHES_PER_MESSAGE } from './prefetch.ts';
import { type DataCursor, type TrainingPartition } from './stream-spec.ts';

/** What a stream is: what trainBatches() takes, with the doors of the process that asks. */
export interface StreamRequest {
  partitions: readonly TrainingPartition[];
  options: Omit<TrainStreamOptions, 'counts'>;
  from: DataCursor;
  invalidSoFar: number;
  doors: DoorSetup;
}

export type StreamCommand = { start: StreamRequest } | { credits: number } | { stop: true };

interface StreamState {
  credits: number;
  stopping: boolean;
  wake: (() => void) | undefined;
}

const port = parentPort!;
let current: StreamState | undefined;

port.on('message', (command: StreamCommand) => {
  if ('start' in command) {
    void run(command.start);
  } else if (current && 'credits' in command) {
    current.credits += command.credits;
    current.wake?.();
  } else if ('stop' in command) {
    if (!current) port.postMessage({ stopped: true });
    else {
      current.stopping = true;
      current.wake?.();
    }
  }
});

/** One stream, from its start to the main thread's stop. */
async function run({ partitions, options, from, invalidSoFar, doors }: StreamRequest): Promise<void> {
  const state: StreamState = { credits: 0, stopping: false, wake: undefined };
  current = state; // before any await: the credits that follow the start are this stream's
  const waitForWord = () => new Promise<void>((resolve) => (state.wake = resolve));
  const counts = { rows: 0, invalid: invalidSoFar };
  let group: Batch[] = [];
  let invalid: number[] = [];
  const send = (): void => {
    state.credits -= group.length;
    port.postMessage({ batches: group, invalid }, group.flatMap((b) => [b.x.buffer as ArrayBuffer, b.y.buffer as ArrayBuffer]));
    group = [];
    invalid = [];
  };
  try {
    configureDoors(doors); // the doors of the process that asked for the stream (s3://, …)
    for await (const batch of trainBatches(partitions, { ...options, counts }, from)) {
      while (state.credits === 0 && !state.stopping) await waitForWord();
      if (state.stopping) break; // leaving the loop closes the stream's files
      group.push(batch);
      invalid.push(counts.invalid);
      // Sent when the group is full or takes the last credit (the main thread grants credits a group at a time).
      if (group.length === BATCHES_PER_MESSAGE || group.length === state.credits) send();
    }
  } catch (error) {
    if (!state.stopping) {
      if (group.length > 0) send(); // the batches made before the error are trained on first, as they were one by one
      const e = error as Error & { file?: string; line?: number; column?: string; location?: string };
      port.postMessage({ error: { name: e.name, message: e.message, file: e.file ?? e.location, line: e.line, column: e.column } });
    }
  }
  while (!state.stopping) await waitForWord();
  current = undefined;
  port.postMessage({ stopped: true });
}
