// The discovery side of a source of partitions: where partitions are found, when one is
// complete, and the hints that make the watcher look sooner than its next rescan. Reading
// a partition's files is the door's job (data/file-door.ts); registering it is the
// watcher's. The local directory (walk + chokidar) is the first source; an object store
// is a second (listing by prefix and polling for `_SUCCESS` objects), chosen by the data
// location's scheme in `partitionSourceFor`.
import type { CompletePartition, WaitingDirectory } from './find-complete-partitions.ts';

/** What a source tells the watcher between two full listings. */
export interface SourceHints {
  /**
   * This partition may have become complete (its marker written, a quiet period over).
   * With `arrivedAt`, a partition already handled with that same arrival is skipped.
   */
  complete(relativePath: string, arrivedAt?: Date): void;
  /** Marker mode: a data file of this partition was written and has been quiet for a moment. */
  dataChanged(relativePath: string): void;
}

export interface PartitionListing {
  complete: CompletePartition[];
  waiting: WaitingDirectory[];
}

export interface PartitionSource {
  /** The data location partitions' paths are relative to (a folder, or a scheme's URL). */
  readonly root: string;
  /** Makes the source ready to be listed (the local source creates its folder). */
  prepare(): Promise<void>;
  /** One full listing: every complete partition, and those holding data but not complete yet. */
  list(): Promise<PartitionListing>;
  /** Whether one partition is complete now and since when; null when not (or no longer) there. */
  completion(relativePath: string): Promise<Date | null>;
  /** What a partition that is not complete holds; null when it holds no data file. */
  waitingContent(relativePath: string): Promise<WaitingDirectory | null>;
  /** Starts sending hints; resolves once watching. */
  watch(hints: SourceHints): Promise<void>;
  /** Stops sending hints and releases what watching holds (threads, timers, handles). */
  close(): Promise<void>;
  /** How the source watches, for the log line at start. */
  readonly describe: Record<string, unknown>;
}
