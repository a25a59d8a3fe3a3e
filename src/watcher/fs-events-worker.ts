// Worker-thread side of the local sources' events: chokidar runs here, on the second core,
// one FSWatcher per watched root, all in this one thread (a thread per root cost ≈ 18 MiB
// each: bench:lineages). chokidar re-reads (and lstats) a directory's whole listing
// whenever an entry is added, so with many sibling partitions each arrival costs
// O(siblings); here that cost no longer delays registrations on the main thread.
//
// Messages in:  { watch: id, root, polling, pollIntervalMs } · { unwatch: id }
// Messages out: { id, event, path } per add, change and addDir · { id, ready: true } once
//               watching · { id, error } on watcher errors · { id, closed: true }
import { parentPort } from 'node:worker_threads';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { coerceError } from '../core/errors.ts';

interface WatchRequest {
  watch: number;
  root: string;
  polling: boolean;
  pollIntervalMs: number;
}

const port = parentPort!;
const watchers = new Map<number, FSWatcher>();

function startWatching({ watch: id, root, polling, pollIntervalMs }: WatchRequest): void {
  const watcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    usePolling: polling,
    interval: pollIntervalMs,
    ignored: (file) => path.basename(file).startsWith('.') && file !== root,
  });
  watchers.set(id, watcher);
  watcher.on('add', (file) => port.postMessage({ id, event: 'add', path: file }));
  watcher.on('change', (file) => port.postMessage({ id, event: 'change', path: file }));
  watcher.on('addDir', (dir) => port.postMessage({ id, event: 'addDir', path: dir }));
  watcher.on('error', (error) => port.postMessage({ id, error: String(coerceError(error).message ?? error) }));
  watcher.once('ready', () => port.postMessage({ id, ready: true }));
}

port.on('message', (message: WatchRequest | { unwatch: number }) => {
  if ('watch' in message) startWatching(message);
  else {
    const watcher = watchers.get(message.unwatch);
    watchers.delete(message.unwatch);
    void (watcher?.close() ?? Promise.resolve()).then(() => port.postMessage({ id: message.unwatch, closed: true }));
  }
});
