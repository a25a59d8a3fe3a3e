// Worker-thread side of prefetchedBatches(): runs the training stream (reading, parsing,
// shuffling, batching) on the second core so the main thread only trains. Batches go to
// the main thread as transferred buffers (no copy); the main thread grants credits so at
// most `depth` batches are in flight.
import { parentPort, workerData } from 'node:worker_threads';
import { configureDoors, type DoorSetup } from '../../data/index.ts';
import { trainBatches, type TrainStreamOptions } from './train-batches.ts';
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
try {
  for await (const batch of trainBatches(partitions, { ...options, counts }, from)) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits -= 1;
    port.postMessage({ batch, invalid: counts.invalid }, [batch.x.buffer as ArrayBuffer, batch.y.buffer as ArrayBuffer]);
  }
} catch (error) {
  const e = error as Error & { file?: string; line?: number; column?: string; location?: string };
  port.postMessage({ error: { name: e.name, message: e.message, file: e.file ?? e.location, line: e.line, column: e.column } });
}
