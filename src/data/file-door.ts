// The door for partition data: every read of a partition's files — the watcher's listing
// and hashing, the readers (CSV, JSON Lines, Parquet), the schema sniff, the training
// stream, batch prediction — goes through a FileDoor found by the file's location. A
// location is a string: a local path today; an object-storage URL (`s3://bucket/key`) is
// one more FileDoor registered for its scheme (registerFileDoor), with no change to the
// readers. Locations are strings on purpose: they cross into the watcher's validation
// threads, which find the same door there.
//
// What stays outside the door, on purpose: the training stream's row cache (a local
// scratch copy under artifactsDir, written and read by freshet itself), the checkpoints
// and exports (the artifact store's), and the local directory walk with its symlink rules
// and chokidar events (how the local source *finds* partitions; listing a partition's files
// and reading them is the door's).
import { localFileDoor } from './local-door.ts';
import { s3FileDoor, type S3DoorOptions } from './s3-door.ts';

/** A file or sub-folder of a listed folder. */
export interface DoorEntry {
  name: string;
  kind: 'file' | 'folder' | 'other';
  /** Files: size in bytes and last change (whole ms since the epoch); 0 for the others. */
  bytes: number;
  modifiedMs: number;
}

export interface FileDoor {
  /** Size and last change of a file; rejects (code ENOENT) when it does not exist. */
  stat(location: string): Promise<{ bytes: number; modifiedMs: number }>;
  /** The entries of a folder, unsorted; rejects (code ENOENT, ENOTDIR) when it is not one. */
  list(folder: string): Promise<DoorEntry[]>;
  /**
   * The bytes of a file in order, in chunks of about `chunkBytes`. A chunk is valid only
   * until the next is asked for (the local door reuses one buffer): consume or copy it.
   */
  chunks(location: string, chunkBytes: number): AsyncGenerator<Buffer>;
  /** Bytes [start, end) of a file: Parquet's footer and column chunks, a header sniff. */
  range(location: string, start: number, end: number): Promise<ArrayBuffer>;
  /** The location of `name` inside `folder`. */
  join(folder: string, name: string): string;
}

const doors = new Map<string, FileDoor>();

/** Registers the door for locations that start with `scheme` (e.g. `s3://`). */
export function registerFileDoor(scheme: string, door: FileDoor): void {
  doors.set(scheme, door);
}

/** The door a location goes through: a registered scheme's, else the local filesystem's. */
export function doorFor(location: string): FileDoor {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(location)?.[0];
  if (scheme) {
    const door = doors.get(scheme.toLowerCase());
    if (!door) throw new Error(`${location}: no door for ${scheme} locations (this freshet reads local paths${doors.size ? ` and ${[...doors.keys()].join(', ')}` : ''})`);
    return door;
  }
  return localFileDoor;
}

/**
 * How the doors other than the local one are set up: plain data, so the threads that read
 * partitions (the training stream's, the Parquet validation's) set up the same doors as the
 * process that started them (`doorSetup()` into their workerData, `configureDoors` there).
 */
export interface DoorSetup {
  s3?: S3DoorOptions;
}

let current: DoorSetup = {};

export function configureDoors(setup: DoorSetup): void {
  current = setup;
  if (setup.s3) registerFileDoor('s3://', s3FileDoor(setup.s3));
}

export const doorSetup = (): DoorSetup => current;

/** Sets the doors up for a configuration: the S3 door when any of its data locations is s3://. */
export function configureDoorsFor(locations: readonly string[], s3: Omit<S3DoorOptions, 'cache'> & { cacheDir: string; cacheBytes: number }): void {
  if (!locations.some((l) => /^s3:\/\//i.test(l))) return;
  configureDoors({ s3: { endpoint: s3.endpoint, region: s3.region, forcePathStyle: s3.forcePathStyle, maxAttempts: s3.maxAttempts, cache: { dir: s3.cacheDir, bytes: s3.cacheBytes } } });
}
