// One thread for every local source's filesystem events in this process: the first
// subscription starts it (fs-events-worker.ts), the last one to leave ends it, so a
// process that stops watching keeps no thread alive. Each subscription is a root and its
// handler; the thread tags each event with the subscription's id.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.ts';

export interface FsEvent {
  event: 'add' | 'change' | 'addDir';
  path: string;
}

interface Subscription {
  onEvent: (event: FsEvent) => void;
  onReady: () => void;
  onClosed: (() => void) | undefined;
  log: Logger;
}

let thread: Worker | undefined;
let nextId = 1;
const subscriptions = new Map<number, Subscription>();

function ensureThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(new URL('./fs-events-worker.ts', import.meta.url));
  worker.on('message', (message: { id: number; event?: FsEvent['event']; path?: string; ready?: boolean; error?: string; closed?: boolean }) => {
    const subscription = subscriptions.get(message.id);
    if (!subscription) return;
    if (message.event && message.path) subscription.onEvent({ event: message.event, path: message.path });
    else if (message.ready) subscription.onReady();
    else if (message.error) subscription.log.error({ err: message.error }, 'filesystem watcher error');
    else if (message.closed) subscription.onClosed?.();
  });
  worker.on('error', (error) => {
    for (const s of subscriptions.values()) s.log.error({ err: error }, 'filesystem watcher thread failed; the periodic rescan still runs');
  });
  thread = worker;
  return worker;
}

/**
 * Watches `root` on the shared thread; resolves once chokidar is ready, with the function
 * that stops watching it (and ends the thread when nothing else is watched).
 */
export async function watchRoot(root: string, options: { polling: boolean; pollIntervalMs: number; log: Logger }, onEvent: (event: FsEvent) => void): Promise<() => Promise<void>> {
  const id = nextId++;
  const worker = ensureThread();
  await new Promise<void>((resolve) => {
    subscriptions.set(id, { onEvent, onReady: resolve, onClosed: undefined, log: options.log });
    worker.postMessage({ watch: id, root, polling: options.polling, pollIntervalMs: options.pollIntervalMs });
  });
  return async () => {
    const subscription = subscriptions.get(id);
    if (!subscription) return;
    // Let chokidar close its handles (bounded: a wedged close must not hold shutdown).
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      subscription.onClosed = () => (clearTimeout(timer), resolve());
      worker.postMessage({ unwatch: id });
    });
    subscriptions.delete(id);
    if (subscriptions.size === 0 && thread === worker) {
      thread = undefined;
      await worker.terminate();
    }
  };
}
