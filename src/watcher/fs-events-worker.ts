// Worker-thread side of the watcher's event source: chokidar runs here, on the second
// core. chokidar re-reads (and lstats) a directory's whole listing whenever an entry is
// added, so with many sibling partitions each arrival costs O(siblings); here that cost
// no longer delays registrations on the main thread. Posts { event, path } per add, change
// and addDir,
// { ready: true } once watching, { error } on watcher errors.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import { watch } from 'chokidar';
import { coerceError } from '../core/errors.ts';

interface Input {
  root: string;
  polling: boolean;
  pollIntervalMs: number;
}

const { root, polling, pollIntervalMs } = workerData as Input;
const port = parentPort!;
const watcher = watch(root, {
  ignoreInitial: true,
  followSymlinks: false,
  usePolling: polling,
  interval: pollIntervalMs,
  ignored: (file) => path.basename(file).startsWith('.') && file !== root,
});
watcher.on('add', (file) => port.postMessage({ event: 'add', path: file }));
watcher.on('change', (file) => port.postMessage({ event: 'change', path: file }));
watcher.on('addDir', (dir) => port.postMessage({ event: 'addDir', path: dir }));
watcher.on('error', (error) => port.postMessage({ error: String(coerceError(error).message ?? error) }));
watcher.once('ready', () => port.postMessage({ ready: true }));
port.on('message', (message: { close?: boolean }) => {
  if (message.close) void watcher.close().then(() => port.postMessage({ closed: true }));
});
