// Validating one data file on a worker thread with a time limit. A reader that never
// returns (a damaged file sending a decoder into a loop) is terminated, and the file is
// rejected with a message that says so, instead of freezing the daemon's event loop.
import { Worker } from 'node:worker_threads';
import { DataFileError, doorSetup } from '../data/index.ts';
import type { FileValidation, ValidationRules } from './inspect-partition.ts';

/** Generous: decoding runs at tens of MB/s; the base limit plus a second per MB. */
export function parquetTimeLimitMs(bytes: number, baseSeconds: number): number {
  return (baseSeconds + Math.ceil(bytes / 1_000_000)) * 1000;
}

interface WorkerReply {
  result?: FileValidation;
  error?: { message: string; detail?: string; line?: number; column?: string; dataError: boolean };
}

export function validateFileIsolated(file: string, rules: ValidationRules, bytes: number, timeLimitMs: number): Promise<FileValidation> {
  const worker = new Worker(new URL('./file-validation-worker.ts', import.meta.url), { workerData: { file, rules, bytes, doors: doorSetup() } });
  return new Promise<FileValidation>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new DataFileError(file, `could not be decoded within ${Math.round(timeLimitMs / 1000)} s (a damaged file can send the decoder into a loop); rejected`));
      void worker.terminate();
    }, timeLimitMs);
    worker.once('message', (reply: WorkerReply) => {
      clearTimeout(timer);
      void worker.terminate();
      if (reply.result) return resolve(reply.result);
      const error = reply.error!;
      reject(error.dataError ? new DataFileError(file, error.detail ?? error.message, { ...(error.line !== undefined ? { line: error.line } : {}), ...(error.column !== undefined ? { column: error.column } : {}) }) : new Error(error.message));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(new DataFileError(file, `the reader failed: ${error.message}`));
    });
  });
}
