// Worker-thread side of prefetchedBatches(): runs the training stream (reading, parsing,
// shuffling, batching) on the second core so the main thread only trains. Batches go to
// the main thread as transferred buffers (no copy), BATCHES_PER_MESSAGE to a message (a
// message each way per batch was 2 s of a flights backtest's 60); the main thread grants
// credits so at most `depth` batches are in flight.
import { parentPort, workerData } from 'node:worker_threads';
import { configureDoors, type DoorSetup } from '../../data/index.ts';
import { trainBatches, type Batch, type TrainStreamOptions } from './train-batches.ts';
import { BATCHES_PER_MESSAGE } from './prefetch.ts';
import { type DataCursor, type TrainingPartition } from './stream-spec.ts';

interface Input {
  partitions: TrainingPartition[];
  options: Omit<TrainStreamOptions, 'counts'>;
  from: DataCursor;
  invalidSoFar: number;
}

const port = parentPort!;
const { partitions, options, from, invalidSoFar, doors } = workerData as Input & { doors: DoorSetup };
configureDoors(doors); // the doors of the process that started this thread (s3://, …)
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', (message: { credits: number }) => {
  credits += message.credits;
  wake?.();
});

const counts = { rows: 0, invalid: invalidSoFar };
let group: Batch[] = [];
let invalid: number[] = [];
const send = (): void => {
  credits -= group.length;
  port.postMessage({ batches: group, invalid }, group.flatMap((b) => [b.x.buffer as ArrayBuffer, b.y.buffer as ArrayBuffer]));
  group = [];
  invalid = [];
};
try {
  for await (const batch of trainBatches(partitions, { ...options, counts }, from)) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    group.push(batch);
    invalid.push(counts.invalid);
    // Sent when the group is full or takes the last credit (the main thread grants credits a group at a time).
    if (group.length === BATCHES_PER_MESSAGE || group.length === credits) send();
  }
} catch (error) {
  if (group.length > 0) send(); // the batches made before the error are trained on first, as they were one by one
  const e = error as Error & { file?: string; line?: number; column?: string; location?: string };
  port.postMessage({ error: { name: e.name, message: e.message, file: e.file ?? e.location, line: e.line, column: e.column } });
}
