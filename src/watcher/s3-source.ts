// An S3 prefix as a partition source (`dataDir: s3://bucket/prefix`). Object storage sends
// no events, so the source polls: every `s3.pollSeconds` it lists the prefix
// (ListObjectsV2, paginated) and tells the watcher about partitions whose marker appeared
// or moved (`hints.complete`) and folders whose data objects changed without one
// (`hints.dataChanged`). A partition is complete when its `_SUCCESS` object exists (marker
// mode; its LastModified is the arrival), or when no object under it changed for stableMs
// (stable mode). Reading the objects is the door's (data/s3-door.ts).
//
// `_SUCCESS` written before the data objects finish: an S3 PUT is atomic, so an object is
// either listed whole or not at all; a data object PUT after the marker is not part of the
// version registered at the marker. It shows up at the next poll as a data change, and —
// as for a local partition — the partition is registered again only when its marker is
// written again (or, if it had been rejected, at once). Producers should write the marker last.
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { doorFor, parseS3Location, s3Client, type S3DoorOptions } from '../data/index.ts';
import type { CompletePartition, CompletionRules, WaitingDirectory } from './find-complete-partitions.ts';
import { isBookkeeping } from './inspect-partition.ts';
import { parsePartitionPath } from './partition-path.ts';
import type { PartitionListing, PartitionSource, SourceHints } from './partition-source.ts';

interface ObjectSeen {
  key: string;
  bytes: number;
  modifiedMs: number;
  /** What the listing says of the content (an object rewritten in place gets a new one); '' when not listed with one. */
  etag: string;
}

export class S3PartitionSource implements PartitionSource {
  readonly root: string;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #rules: CompletionRules;
  readonly #options: S3DoorOptions & { pollSeconds: number };
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  /** Per partition: the marker's time (complete) or a fingerprint of its objects (waiting), at the last poll. */
  #seen = new Map<string, string>();

  constructor({ root, rules, options, log }: { root: string; rules: CompletionRules; options: S3DoorOptions & { pollSeconds: number }; log: Logger }) {
    this.root = root.replace(/\/+$/, '');
    const { bucket, key } = parseS3Location(this.root);
    this.#bucket = bucket;
    this.#prefix = key === '' ? '' : `${key}/`;
    this.#rules = rules;
    this.#options = options;
    this.#log = log;
  }

  get describe(): Record<string, unknown> {
    return { root: this.root, mode: this.#rules.mode, pollSeconds: this.#options.pollSeconds, endpoint: this.#options.endpoint ?? 'AWS' };
  }

  /** Every object under the prefix, paginated. */
  async #objects(): Promise<ObjectSeen[]> {
    const { client, sdk } = await s3Client(this.#options);
    const out: ObjectSeen[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) out.push({ key: object.Key!.slice(this.#prefix.length), bytes: Number(object.Size ?? 0), modifiedMs: object.LastModified?.getTime() ?? 0, etag: object.ETag ?? '' });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const message = `${this.root}: listing the bucket ${this.#bucket} failed: ${name}${status ? ` (HTTP ${status})` : ''}`;
      // A missing bucket or refused credentials will not mend by retrying: a configuration error (exit 2).
      if (name === 'NoSuchBucket' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied' || status === 403) throw new ConfigError(message, { cause: error });
      throw new Error(message, { cause: error });
    }
    return out;
  }

  /** The objects grouped by the partition folder they are in (only Hive-style paths). */
  static #byPartition(objects: readonly ObjectSeen[]): Map<string, ObjectSeen[]> {
    const groups = new Map<string, ObjectSeen[]>();
    for (const object of objects) {
      const slash = object.key.lastIndexOf('/');
      if (slash < 0) continue;
      const partition = object.key.slice(0, slash);
      if (!parsePartitionPath(partition)) continue;
      groups.set(partition, [...(groups.get(partition) ?? []), { ...object, key: object.key.slice(slash + 1) }]);
    }
    return groups;
  }

  #completionOf(objects: readonly ObjectSeen[], now = Date.now()): Date | null {
    if (this.#rules.mode === 'marker') {
      const marker = objects.find((o) => o.key === this.#rules.marker);
      return marker ? new Date(marker.modifiedMs) : null;
    }
    const data = objects.filter((o) => !isBookkeeping(o.key));
    const newest = Math.max(0, ...data.map((o) => o.modifiedMs));
    return data.length > 0 && now - newest >= this.#rules.stableMs ? new Date(newest) : null;
  }

  static #waiting(relativePath: string, objects: readonly ObjectSeen[]): WaitingDirectory | null {
    const data = objects.filter((o) => !isBookkeeping(o.key));
    if (data.length === 0) return null;
    return { relativePath, files: data.length, bytes: data.reduce((n, o) => n + o.bytes, 0), firstFileAt: new Date(Math.min(...data.map((o) => o.modifiedMs))) };
  }

  async prepare(): Promise<void> {
    await this.#objects(); // the bucket exists and the credentials work: say so at start, naming the bucket
  }

  async list(): Promise<PartitionListing> {
    const listing: PartitionListing = { complete: [], waiting: [] };
    for (const [relativePath, objects] of S3PartitionSource.#byPartition(await this.#objects())) {
      const arrivedAt = this.#completionOf(objects);
      if (arrivedAt) listing.complete.push({ relativePath, arrivedAt } satisfies CompletePartition);
      else {
        const waiting = S3PartitionSource.#waiting(relativePath, objects);
        if (waiting) listing.waiting.push(waiting);
      }
    }
    return listing;
  }

  async #partitionObjects(relativePath: string): Promise<ObjectSeen[]> {
    const folder = `${this.root}/${relativePath}`;
    try {
      return (await doorFor(folder).list(folder)).filter((e) => e.kind === 'file').map((e) => ({ key: e.name, bytes: e.bytes, modifiedMs: e.modifiedMs, etag: '' }));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return [];
      throw error;
    }
  }

  async completion(relativePath: string): Promise<Date | null> {
    return this.#completionOf(await this.#partitionObjects(relativePath));
  }

  async waitingContent(relativePath: string): Promise<WaitingDirectory | null> {
    return S3PartitionSource.#waiting(relativePath, await this.#partitionObjects(relativePath));
  }

  /** One poll: hints for the partitions whose marker appeared or moved, or whose objects changed. */
  async #poll(hints: SourceHints, quiet: boolean): Promise<void> {
    const next = new Map<string, string>();
    for (const [relativePath, objects] of S3PartitionSource.#byPartition(await this.#objects())) {
      const arrivedAt = this.#completionOf(objects);
      // An object's identity in the listing is its ETag and size (with its time): a data object
      // rewritten in place under a complete partition is a change, as a rewritten local file is.
      const objectsSeen = objects.map((o) => `${o.key}:${o.etag}:${o.bytes}:${o.modifiedMs}`).join('|');
      const state = arrivedAt ? `complete:${arrivedAt.getTime()}:${objectsSeen}` : `waiting:${objectsSeen}`;
      next.set(relativePath, state);
      if (quiet || this.#seen.get(relativePath) === state) continue;
      if (arrivedAt && !this.#seen.get(relativePath)?.startsWith(`complete:${arrivedAt.getTime()}:`)) hints.complete(relativePath, arrivedAt);
      else hints.dataChanged(relativePath);
    }
    this.#seen = next;
  }

  async watch(hints: SourceHints): Promise<void> {
    await this.#poll(hints, true); // the baseline: the watcher's own listing just handled what is there
    this.#timer = setInterval(() => {
      this.#polling ??= this.#poll(hints, false)
        .catch((error: Error) => this.#log.warn({ err: error.message, root: this.root }, 'polling the bucket failed; the next poll retries'))
        .finally(() => (this.#polling = undefined));
    }, this.#options.pollSeconds * 1000);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }
}
