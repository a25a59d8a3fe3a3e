// The watcher: a full scan at start (partitions that arrived while freshet was down), then
// chokidar events, then a periodic rescan as the safety net for missed events. Each
// partition directory is registered by at most one task at a time in this process
// (requests for a path being registered are coalesced into one more pass afterwards);
// across processes, registerPartition's advisory lock does the same.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { findLatestPartitionVersion, isTransientDatabaseError, replaceWaitingPartitions, upsertWaitingPartition, type Registry } from '../registry/index.ts';
import { retryTransient } from '../core/retry.ts';
import { coerceError } from '../core/errors.ts';
import { safeEmit } from '../core/safe-emit.ts';
import { completion, isInside, scanPartitions, waitingContent, type CompletionRules, type WaitingDirectory } from './find-complete-partitions.ts';
import { isBookkeeping } from './inspect-partition.ts';
import { parsePartitionPath } from './partition-path.ts';
import { registerPartition, type RegistrationOutcome } from './register-partition.ts';

export interface WatcherEvents {
  /** After the registration committed (registered, rejected, duplicate or vanished), with the partition's arrival (its marker's time). */
  outcome: [RegistrationOutcome, Date];
  /** A registration failed for a reason other than the data (e.g. the database is down). */
  failure: [Error, string];
}

export interface WatcherOptions {
  db: Registry;
  config: ResolvedConfig;
  log: Logger;
}

/** Marker mode: how long a changed data file must stay quiet before the partition is looked at again (a copy in progress keeps writing). */
const CHANGE_QUIET_MS = 1000;

export class PartitionWatcher extends EventEmitter<WatcherEvents> {
  readonly #db: Registry;
  readonly #config: ResolvedConfig;
  readonly #log: Logger;
  readonly #rules: CompletionRules;
  readonly #root: string;
  #events: Worker | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  readonly #stableTimers = new Map<string, NodeJS.Timeout>();
  /** Paths being registered now → whether another pass was requested meanwhile. */
  readonly #inFlight = new Map<string, boolean>();
  readonly #waiting: string[] = [];
  /** Path → arrival time (ms) of the last completed registration pass, to skip re-checks. */
  readonly #handled = new Map<string, number>();
  #running = 0;
  #idle: Array<() => void> = [];
  #stopped = false;
  readonly #stopping = new AbortController();
  #ready = false;

  constructor({ db, config, log }: WatcherOptions) {
    super();
    this.#db = db;
    this.#config = config;
    this.#log = log.child({ module: 'watcher' });
    this.#rules = { mode: config.watcher.mode, marker: config.watcher.marker, stableMs: config.watcher.stableMs };
    this.#root = config.dataDir;
  }

  /** True once the initial scan is done and chokidar is watching. */
  get ready(): boolean {
    return this.#ready && !this.#stopped;
  }

  /** Scans, registers what is complete, then watches. Resolves when watching. */
  async start(): Promise<void> {
    fs.mkdirSync(this.#root, { recursive: true });
    await this.scan();
    // chokidar runs on a worker thread (see fs-events-worker.ts for why).
    const events = new Worker(new URL('./fs-events-worker.ts', import.meta.url), {
      workerData: { root: this.#root, polling: this.#config.watcher.polling, pollIntervalMs: this.#config.watcher.pollIntervalMs },
    });
    this.#events = events;
    await new Promise<void>((resolve, reject) => {
      events.on('message', (message: { event?: string; path?: string; ready?: boolean; error?: string }) => {
        if (message.event === 'addDir' && message.path) this.#onNewDirectory(message.path);
        else if (message.path) this.#onFile(message.path);
        else if (message.ready) resolve();
        else if (message.error) this.#log.error({ err: message.error }, 'filesystem watcher error');
      });
      events.once('error', reject);
      events.on('error', (error) => this.#log.error({ err: error }, 'filesystem watcher thread failed; the periodic rescan still runs'));
    });
    const every = this.#config.watcher.rescanIntervalSeconds;
    if (every > 0) {
      this.#rescanTimer = setInterval(() => void this.scan().catch((error: Error) => this.#log.error({ err: error }, 'rescan failed')), every * 1000);
      this.#rescanTimer.unref();
    }
    this.#ready = true;
    this.#log.info({ root: this.#root, mode: this.#rules.mode, polling: this.#config.watcher.polling }, 'watching for partitions');
  }

  /**
   * One reconciliation pass: queues every complete partition and waits until all are
   * handled; records the partitions still waiting for their marker, and returns them.
   */
  async scan(): Promise<WaitingDirectory[]> {
    const { complete, waiting } = scanPartitions(this.#root, this.#rules, this.#log);
    for (const { relativePath } of complete) this.#enqueue(relativePath);
    await this.drained();
    const sightings = waiting.map((w) => ({ path: w.relativePath, files: w.files, bytes: w.bytes, firstFileAt: w.firstFileAt }));
    await replaceWaitingPartitions(this.#db, sightings).catch((error: Error) => this.#log.warn({ err: error.message }, 'could not record the partitions waiting for their marker; the next scan retries'));
    return waiting;
  }

  /** Resolves when no registration is queued or running. */
  drained(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops watching and waits for registrations in progress (they are short transactions). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    clearInterval(this.#rescanTimer);
    for (const timer of this.#stableTimers.values()) clearTimeout(timer);
    this.#stableTimers.clear();
    this.#waiting.length = 0;
    const events = this.#events;
    if (events) {
      // Let chokidar close its handles, then end the thread.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        events.on('message', (message: { closed?: boolean }) => message.closed && (clearTimeout(timer), resolve()));
        events.postMessage({ close: true });
      });
      await events.terminate();
    }
    await this.drained();
  }

  /**
   * A new directory: chokidar reads it once and then watches it, and a file created in
   * between is never reported (seen in bursts). So look for completion now and twice more
   * shortly after; what was already handled with the same arrival time is skipped.
   */
  #onNewDirectory(dir: string): void {
    const relative = path.relative(this.#root, dir);
    if (!isInside(this.#root, dir) || !parsePartitionPath(relative)) return;
    for (const delay of [0, 250, 1000]) {
      const timer = setTimeout(() => {
        if (this.#stopped) return;
        try {
          const arrivedAt = completion(dir, this.#rules);
          if (arrivedAt && this.#handled.get(relative) !== arrivedAt.getTime()) this.#enqueue(relative);
        } catch {
          // vanished
        }
      }, delay);
      timer.unref();
    }
  }

  #onFile(file: string): void {
    this.#log.debug({ file }, 'file event');
    if (this.#stopped) return;
    const dir = path.dirname(file);
    const relative = path.relative(this.#root, dir);
    if (!isInside(this.#root, dir) || !parsePartitionPath(relative)) return;
    const name = path.basename(file);
    if (this.#rules.mode === 'marker') {
      if (name === this.#rules.marker) this.#enqueue(relative);
      else if (!isBookkeeping(name)) this.#onDataFileChange(dir, relative);
      return;
    }
    if (isBookkeeping(name)) return;
    // stable mode: (re)start the quiet-period timer for this directory.
    clearTimeout(this.#stableTimers.get(relative));
    const timer = setTimeout(() => {
      this.#stableTimers.delete(relative);
      try {
        if (completion(dir, this.#rules)) this.#enqueue(relative);
        else this.#onFile(file); // changed again meanwhile: wait another quiet period
      } catch {
        // vanished
      }
    }, this.#rules.stableMs + 50);
    timer.unref();
    this.#stableTimers.set(relative, timer);
  }

  /**
   * Marker mode, a data file written or changed: once it has been quiet for a moment, a
   * complete partition whose newest version was rejected is checked again (fixed in place,
   * it registers without its marker being touched), and one without its marker is recorded
   * as waiting for it. A change inside a registered partition still waits for its marker to
   * be written again (or the periodic rescan): a producer rewriting it file by file would
   * otherwise register a half-written version.
   */
  #onDataFileChange(dir: string, relative: string): void {
    clearTimeout(this.#stableTimers.get(relative));
    const timer = setTimeout(() => {
      this.#stableTimers.delete(relative);
      if (this.#stopped) return;
      try {
        if (completion(dir, this.#rules)) {
          void findLatestPartitionVersion(this.#db, relative)
            .then((latest) => {
              if (latest?.status === 'rejected') this.#enqueue(relative);
            })
            .catch((error: Error) => this.#log.warn({ path: relative, err: error.message }, 'could not look up a changed partition; the next rescan checks it'));
          return;
        }
        const content = waitingContent(dir, relative);
        if (content) {
          void upsertWaitingPartition(this.#db, { path: relative, files: content.files, bytes: content.bytes, firstFileAt: content.firstFileAt }).catch((error: Error) =>
            this.#log.warn({ path: relative, err: error.message }, 'could not record a partition waiting for its marker; the next scan retries'),
          );
        }
      } catch {
        // vanished
      }
    }, CHANGE_QUIET_MS);
    timer.unref();
    this.#stableTimers.set(relative, timer);
  }

  #enqueue(relative: string): void {
    this.#log.debug({ path: relative, inFlight: this.#inFlight.has(relative) }, 'partition queued');
    if (this.#stopped) return;
    if (this.#inFlight.has(relative)) {
      this.#inFlight.set(relative, true); // run once more after the current pass
      return;
    }
    if (this.#waiting.includes(relative)) return;
    this.#waiting.push(relative);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#config.watcher.concurrency && this.#waiting.length > 0) {
      const relative = this.#waiting.shift()!;
      this.#inFlight.set(relative, false);
      this.#running += 1;
      void this.#register(relative).finally(() => {
        this.#running -= 1;
        const again = this.#inFlight.get(relative);
        this.#inFlight.delete(relative);
        if (again && !this.#stopped) this.#waiting.push(relative);
        this.#pump();
        if (this.#running === 0 && this.#waiting.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #register(relative: string): Promise<void> {
    const dir = path.join(this.#root, relative);
    let arrivedAt: Date | null;
    try {
      arrivedAt = completion(dir, this.#rules);
    } catch {
      return; // vanished
    }
    if (!arrivedAt) return;
    let outcome: RegistrationOutcome;
    try {
      // The registry may be down for minutes: wait for it (capped backoff) rather than
      // leave the partition to the next rescan. Stopping ends the wait; the scan at the
      // next start finds the partition again.
      outcome = await retryTransient(
        () =>
          registerPartition({
            db: this.#db,
            root: this.#root,
            relativePath: relative,
            arrivedAt,
            rules: { numericColumns: [...this.#config.columns.features, ...(this.#config.columns.label ? [this.#config.columns.label] : [])], categoricalColumns: this.#config.columns.categorical, invalidRows: this.#config.training.invalidRows, parquetTimeLimitSeconds: this.#config.watcher.parquetTimeLimitSeconds },
            log: this.#log,
          }),
        { signal: this.#stopping.signal, log: this.#log.child({ path: relative }), what: 'registering the partition', maxBackoffSeconds: this.#config.database.maxBackoffSeconds, isTransient: isTransientDatabaseError },
      );
    } catch (thrown) {
      if (this.#stopped) return;
      const error = coerceError(thrown);
      this.#log.error({ path: relative, err: error.message }, 'registration failed; the next rescan retries it');
      safeEmit(this.#log, 'failure', () => this.emit('failure', error, relative));
      return;
    }
    if (outcome.kind !== 'vanished') this.#handled.set(relative, arrivedAt.getTime());
    if (outcome.kind === 'vanished') this.#log.warn({ path: relative, reason: outcome.reason }, 'partition vanished while it was registered; nothing recorded');
    // Outside the try: a listener that throws is not a failed registration.
    safeEmit(this.#log, 'outcome', () => this.emit('outcome', outcome, arrivedAt));
  }
}
