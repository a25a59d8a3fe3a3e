// The watcher: a full listing of its partition source at start (partitions that arrived
// while freshet was down), then the source's hints (chokidar events for the local
// directory), then a periodic rescan as the safety net for missed hints. Each
// partition directory is registered by at most one task at a time in this process
// (requests for a path being registered are coalesced into one more pass afterwards);
// across processes, registerPartition's advisory lock does the same.
import { EventEmitter } from 'node:events';
import type { ResolvedConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { findLatestPartitionVersion, registryRetryPolicy, replaceWaitingPartitions, upsertWaitingPartition, type Registry } from '../registry/index.ts';
import { retryTransient } from '../core/retry.ts';
import { coerceError } from '../core/errors.ts';
import { safeEmit } from '../core/safe-emit.ts';
import type { WaitingDirectory } from './find-complete-partitions.ts';
import type { PartitionSource } from './partition-source.ts';
import { partitionSourceFor } from './source-for.ts';
import { registerPartition, type RegistrationOutcome } from './register-partition.ts';
import type { SchemaCheck } from './schema-check.ts';

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
  /** Where partitions are found; default: the source for config.dataDir's scheme. */
  source?: PartitionSource;
  /** The lineages reading this source (their schemas check each partition); default: config's own. */
  readers?: readonly ResolvedConfig[];
}

export class PartitionWatcher extends EventEmitter<WatcherEvents> {
  readonly #db: Registry;
  readonly #config: ResolvedConfig;
  readonly #log: Logger;
  readonly #source: PartitionSource;
  readonly #checks: SchemaCheck[];
  #watching = false;
  #rescanTimer: NodeJS.Timeout | undefined;
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

  constructor({ db, config, log, source, readers = [config] }: WatcherOptions) {
    super();
    this.#db = db;
    this.#config = config;
    this.#checks = readers.map((reader) => ({ lineage: reader.lineage, mode: reader.validation.mode, label: reader.columns.label }));
    this.#log = log.child({ module: 'watcher' });
    this.#source = source ?? partitionSourceFor(config, this.#log);
  }

  /** True once the initial scan is done and the source is watching. */
  get ready(): boolean {
    return this.#ready && !this.#stopped;
  }

  /** Scans, registers what is complete, then watches. Resolves when watching. */
  async start(): Promise<void> {
    await this.#source.prepare();
    await this.scan();
    this.#watching = true;
    await this.#source.watch({
      complete: (relative, arrivedAt) => {
        if (!arrivedAt || this.#handled.get(relative) !== arrivedAt.getTime()) this.#enqueue(relative);
      },
      dataChanged: (relative) => void this.#onDataFileChange(relative),
    });
    const every = this.#config.watcher.rescanIntervalSeconds;
    if (every > 0) {
      this.#rescanTimer = setInterval(() => void this.scan().catch((error: Error) => this.#log.error({ err: error }, 'rescan failed')), every * 1000);
      this.#rescanTimer.unref();
    }
    this.#ready = true;
    this.#log.info(this.#source.describe, 'watching for partitions');
  }

  /**
   * One reconciliation pass: queues every complete partition and waits until all are
   * handled; records the partitions still waiting for their marker, and returns them.
   */
  async scan(): Promise<WaitingDirectory[]> {
    const { complete, waiting } = await this.#source.list();
    for (const { relativePath } of complete) this.#enqueue(relativePath);
    await this.drained();
    const sightings = waiting.map((w) => ({ path: w.relativePath, files: w.files, bytes: w.bytes, firstFileAt: w.firstFileAt }));
    await replaceWaitingPartitions(this.#db, this.#source.root, sightings).catch((error: Error) => this.#log.warn({ err: error.message }, 'could not record the partitions waiting for their marker; the next scan retries'));
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
    this.#waiting.length = 0;
    if (this.#watching) await this.#source.close();
    await this.drained();
  }

  /**
   * Marker mode, a data file written or changed (and quiet since): a complete partition
   * whose newest version was rejected or quarantined is checked again (fixed in place, it registers
   * without its marker being touched), and one without its marker is recorded as waiting
   * for it. A change inside a registered partition still waits for its marker to be
   * written again (or the periodic rescan): a producer rewriting it file by file would
   * otherwise register a half-written version.
   */
  async #onDataFileChange(relative: string): Promise<void> {
    if (this.#stopped) return;
    try {
      if (await this.#source.completion(relative)) {
        const latest = await findLatestPartitionVersion(this.#db, this.#source.root, relative);
        if (latest?.status === 'rejected' || latest?.status === 'quarantined') this.#enqueue(relative);
        return;
      }
      const content = await this.#source.waitingContent(relative);
      if (content) await upsertWaitingPartition(this.#db, { source: this.#source.root, path: relative, files: content.files, bytes: content.bytes, firstFileAt: content.firstFileAt });
    } catch (thrown) {
      this.#log.warn({ path: relative, err: coerceError(thrown).message }, 'could not look at a changed partition; the next rescan does');
    }
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
    const arrivedAt = await this.#source.completion(relative);
    if (!arrivedAt) return; // not complete, or vanished
    let outcome: RegistrationOutcome;
    try {
      // The registry may be down for minutes: wait for it (capped backoff) rather than
      // leave the partition to the next rescan. Stopping ends the wait; the scan at the
      // next start finds the partition again.
      outcome = await retryTransient(
        () =>
          registerPartition({
            db: this.#db,
            root: this.#source.root,
            relativePath: relative,
            arrivedAt,
            rules: { numericColumns: [...this.#config.columns.features, ...(this.#config.columns.label ? [this.#config.columns.label] : [])], categoricalColumns: this.#config.columns.categorical, invalidRows: this.#config.training.invalidRows, parquetTimeLimitSeconds: this.#config.watcher.parquetTimeLimitSeconds },
            log: this.#log,
            checks: this.#checks,
          }),
        { signal: this.#stopping.signal, log: this.#log.child({ path: relative }), what: 'registering the partition', ...registryRetryPolicy(this.#config.database) },
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
