// The local directory as a partition source: the walk with its symlink rules for full
// listings, and chokidar's events (on one thread shared by every local source: fs-events-hub.ts) as hints.
// Completion is the marker's mtime (marker mode) or a quiet period with no data file
// changing (stable mode), asked through the door.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/log.ts';
import { completion, isInside, scanPartitions, waitingContent, type CompletionRules, type WaitingDirectory } from './find-complete-partitions.ts';
import { isBookkeeping } from './inspect-partition.ts';
import { parsePartitionPath } from './partition-path.ts';
import type { PartitionListing, PartitionSource, SourceHints } from './partition-source.ts';
import { watchRoot } from './fs-events-hub.ts';

/** Marker mode: how long a changed data file must stay quiet before the partition is looked at again (a copy in progress keeps writing). */
const CHANGE_QUIET_MS = 1000;

export interface LocalSourceOptions {
  root: string;
  rules: CompletionRules;
  polling: boolean;
  pollIntervalMs: number;
  log: Logger;
}

export class LocalPartitionSource implements PartitionSource {
  readonly root: string;
  readonly #rules: CompletionRules;
  readonly #options: LocalSourceOptions;
  readonly #log: Logger;
  #unwatch: (() => Promise<void>) | undefined;
  #hints: SourceHints | undefined;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(options: LocalSourceOptions) {
    this.root = options.root;
    this.#rules = options.rules;
    this.#options = options;
    this.#log = options.log;
  }

  get describe(): Record<string, unknown> {
    return { root: this.root, mode: this.#rules.mode, polling: this.#options.polling };
  }

  async prepare(): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true });
  }

  async list(): Promise<PartitionListing> {
    return scanPartitions(this.root, this.#rules, this.#log);
  }

  async completion(relativePath: string): Promise<Date | null> {
    try {
      return completion(path.join(this.root, relativePath), this.#rules);
    } catch {
      return null; // vanished
    }
  }

  async waitingContent(relativePath: string): Promise<WaitingDirectory | null> {
    try {
      return waitingContent(path.join(this.root, relativePath), relativePath);
    } catch {
      return null; // vanished
    }
  }

  async watch(hints: SourceHints): Promise<void> {
    this.#hints = hints;
    this.#unwatch = await watchRoot(this.root, { polling: this.#options.polling, pollIntervalMs: this.#options.pollIntervalMs, log: this.#log }, ({ event, path: file }) => {
      if (event === 'addDir') this.#onNewDirectory(file);
      else this.#onFile(file);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#unwatch?.();
  }

  /** The partition folder's path relative to the root, or null when `dir` is not one. */
  #partitionOf(dir: string): string | null {
    const relative = path.relative(this.root, dir);
    return isInside(this.root, dir) && parsePartitionPath(relative) ? relative : null;
  }

  /**
   * A new directory: chokidar reads it once and then watches it, and a file created in
   * between is never reported (seen in bursts). So look for completion now and twice more
   * shortly after; what was already handled with the same arrival time is skipped.
   */
  #onNewDirectory(dir: string): void {
    const relative = this.#partitionOf(dir);
    if (relative === null) return;
    for (const delay of [0, 250, 1000]) {
      const timer = setTimeout(() => {
        if (this.#closed) return;
        try {
          const arrivedAt = completion(dir, this.#rules);
          if (arrivedAt) this.#hints?.complete(relative, arrivedAt);
        } catch {
          // vanished
        }
      }, delay);
      timer.unref();
    }
  }

  #onFile(file: string): void {
    this.#log.debug({ file }, 'file event');
    if (this.#closed) return;
    const dir = path.dirname(file);
    const relative = this.#partitionOf(dir);
    if (relative === null) return;
    const name = path.basename(file);
    if (this.#rules.mode === 'marker') {
      if (name === this.#rules.marker) this.#hints?.complete(relative);
      else if (!isBookkeeping(name)) this.#afterQuiet(relative, CHANGE_QUIET_MS, () => this.#hints?.dataChanged(relative));
      return;
    }
    if (isBookkeeping(name)) return;
    // stable mode: (re)start the quiet-period timer for this directory.
    this.#afterQuiet(relative, this.#rules.stableMs + 50, () => {
      try {
        if (completion(dir, this.#rules)) this.#hints?.complete(relative);
        else this.#onFile(file); // changed again meanwhile: wait another quiet period
      } catch {
        // vanished
      }
    });
  }

  /** Runs `then` once the partition has been quiet for `ms` (each event restarts the wait). */
  #afterQuiet(relative: string, ms: number, then: () => void): void {
    clearTimeout(this.#timers.get(relative));
    const timer = setTimeout(() => {
      this.#timers.delete(relative);
      if (!this.#closed) then();
    }, ms);
    timer.unref();
    this.#timers.set(relative, timer);
  }
}
