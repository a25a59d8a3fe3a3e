// Walking the local data root for complete partitions: the local source's listing (the
// startup reconciliation and the periodic rescan, the safety net for events the watcher
// missed), its completion check and what a waiting folder holds. Local and synchronous
// on purpose (the local door's statLocal/listLocal): this is how the local directory
// finds partitions; another source lists its own way (watcher/partition-source.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/log.ts';
import { listLocal, statLocal } from '../data/index.ts';
import { isBookkeeping } from './inspect-partition.ts';
import { parsePartitionPath } from './partition-path.ts';

export interface CompletionRules {
  mode: 'marker' | 'stable';
  marker: string;
  stableMs: number;
}

/** A partition directory with data files that is not complete yet (no marker; still changing). */
export interface WaitingDirectory {
  relativePath: string;
  files: number;
  bytes: number;
  /** The oldest data file's mtime: how long the partition has waited. */
  firstFileAt: Date;
}

/** What a directory with data files but no completion holds, or null when it holds none. */
export function waitingContent(dir: string, relativePath: string): WaitingDirectory | null {
  let files = 0;
  let bytes = 0;
  let oldest = Infinity;
  for (const entry of listLocal(dir)) {
    if (entry.kind !== 'file' || isBookkeeping(entry.name)) continue;
    files += 1;
    bytes += entry.bytes;
    oldest = Math.min(oldest, entry.modifiedMs);
  }
  return files > 0 ? { relativePath, files, bytes, firstFileAt: new Date(oldest) } : null;
}

export interface CompletePartition {
  relativePath: string;
  /** Marker mtime (marker mode) or the newest content file's mtime (stable mode). */
  arrivedAt: Date;
}

/** True when `target` is `root` or inside it. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Whether one directory is a complete partition, and since when. Null when not (yet). */
export function completion(dir: string, rules: CompletionRules, now = Date.now()): Date | null {
  if (rules.mode === 'marker') {
    try {
      return new Date(statLocal(path.join(dir, rules.marker)).modifiedMs);
    } catch {
      return null;
    }
  }
  let newest = 0;
  let files = 0;
  for (const entry of listLocal(dir)) {
    if (entry.kind !== 'file' || isBookkeeping(entry.name)) continue;
    files += 1;
    newest = Math.max(newest, entry.modifiedMs);
  }
  return files > 0 && now - newest >= rules.stableMs ? new Date(newest) : null;
}

/**
 * Every complete partition under `root`. Symlinks that resolve outside the root are
 * ignored with a warning; directories that vanish during the walk are skipped.
 */
export function findCompletePartitions(root: string, rules: CompletionRules, log: Logger): CompletePartition[] {
  return scanPartitions(root, rules, log).complete;
}

/** One walk of the data root: the complete partitions, and those with data files still waiting for completion. */
export function scanPartitions(root: string, rules: CompletionRules, log: Logger): { complete: CompletePartition[]; waiting: WaitingDirectory[] } {
  const realRoot = fs.realpathSync(root);
  const found: CompletePartition[] = [];
  const waiting: WaitingDirectory[] = [];
  const visited = new Set<string>();
  const walk = (dir: string): void => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return; // vanished
    }
    if (!isInside(realRoot, real)) {
      log.warn({ path: dir, resolvesTo: real }, 'ignoring a symlink that resolves outside the data root');
      return;
    }
    if (visited.has(real)) return; // a symlink loop inside the root
    visited.add(real);
    const relative = path.relative(root, dir);
    if (relative && parsePartitionPath(relative)) {
      try {
        const arrivedAt = completion(dir, rules);
        if (arrivedAt) found.push({ relativePath: relative, arrivedAt });
        else {
          const content = waitingContent(dir, relative);
          if (content) waiting.push(content);
        }
      } catch {
        return; // vanished while we looked
      }
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory() || entry.isSymbolicLink()) {
        const child = path.join(dir, entry.name);
        if (entry.isSymbolicLink()) {
          try {
            if (!fs.statSync(child).isDirectory()) continue;
          } catch {
            continue; // dangling
          }
        }
        walk(child);
      }
    }
  };
  walk(root);
  found.sort((a, b) => a.arrivedAt.getTime() - b.arrivedAt.getTime() || a.relativePath.localeCompare(b.relativePath));
  return { complete: found, waiting };
}
