// Worker-thread side of validateFileIsolated: validates one file and posts the result or
// the error (with its file, line and column parts, so the main thread can rebuild it).
import { parentPort, workerData } from 'node:worker_threads';
import { configureDoors, DataFileError, type DoorSetup } from '../data/index.ts';
import { validateFile, type ValidationRules } from './inspect-partition.ts';

const { file, rules, bytes, doors } = workerData as { file: string; rules: ValidationRules; bytes: number; doors: DoorSetup };
configureDoors(doors); // the doors of the process that started this thread (s3://, …)
try {
  parentPort!.postMessage({ result: await validateFile(file, rules, bytes) });
} catch (error) {
  const e = error as Error;
  if (e instanceof DataFileError) {
    parentPort!.postMessage({ error: { message: e.message, detail: e.detail, line: e.line, column: e.column, dataError: true } });
  } else {
    parentPort!.postMessage({ error: { message: e.message, dataError: false } });
  }
}
