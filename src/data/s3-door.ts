// Object storage behind the door: `s3://bucket/key` locations read with the AWS SDK for
// JavaScript v3 (its default credential chain: environment, shared profile, container and
// instance roles), or any S3-compatible store through `endpoint` and `forcePathStyle`
// (MinIO, Cloudflare R2, Ceph RGW, SeaweedFS, Garage). A "folder" is a key prefix ending
// in `/`; listing it is ListObjectsV2 with a delimiter (paginated); a file's bytes come from
// one GetObject stream, a byte range from a ranged GetObject (Parquet's footer and column
// chunks). The SDK retries 5xx and throttling (SlowDown) with backoff; what still fails is
// rethrown naming the bucket and key, with `code` ENOENT for a missing object so callers
// decide by kind as for local files.
//
// The SDK is imported when the first location is read, not when freshet starts: the CLI's
// verbs and a local-only daemon never load it.
import fs from 'node:fs';
import type { DoorEntry, FileDoor } from './file-door.ts';
import { MissingObjectError } from './missing-object-error.ts';
import { ObjectCache, type ObjectCacheOptions } from './object-cache.ts';
import { s3Client } from './s3-client.ts';

export interface S3DoorOptions {
  /** An S3-compatible endpoint (http://127.0.0.1:9000 for MinIO); unset: AWS. */
  endpoint?: string | undefined;
  region: string;
  /** Path-style URLs (endpoint/bucket/key), which most S3-compatible stores need. */
  forcePathStyle: boolean;
  /** Attempts per request, the first included (the SDK's standard retry mode, with backoff). */
  maxAttempts: number;
  /** A local cache of whole objects keyed by ETag (object-cache.ts); unset: every read downloads. */
  cache?: ObjectCacheOptions | undefined;
}

/** `s3://bucket/a/b` → bucket and key (the key without a leading slash). */
export function parseS3Location(location: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(location);
  if (!match) throw new Error(`${location}: not an s3://bucket/key location`);
  return { bucket: match[1]!, key: match[2]! };
}

/** An SDK error as freshet reports it: the bucket and key named, ENOENT for a missing object or bucket. */
function s3Error(location: string, what: string, error: unknown): Error {
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const missing = name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404;
  const message = `${location}: ${what} failed: ${name}${status ? ` (HTTP ${status})` : ''}${(error as Error).message && (error as Error).message !== name ? `: ${(error as Error).message}` : ''}`;
  if (missing) return new MissingObjectError(location, message, { cause: error });
  return Object.assign(new Error(message, { cause: error }), { code: name });
}

/**
 * The FileDoor of s3:// locations. Why one long function: the door's methods (stat, list,
 * chunks, range, join) share one client and one object cache through this closure; each
 * method is short.
 */
export function s3FileDoor(options: S3DoorOptions): FileDoor {
  const cache = options.cache && options.cache.bytes > 0 ? new ObjectCache(options.cache) : undefined;
  const connect = () => s3Client(options);

  return {
    async stat(location) {
      const { client, sdk } = await connect();
      const { bucket, key } = parseS3Location(location);
      try {
        const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { bytes: Number(head.ContentLength ?? 0), modifiedMs: head.LastModified?.getTime() ?? 0 };
      } catch (error) {
        throw s3Error(location, 'HeadObject', error);
      }
    },

    async list(folder) {
      const { client, sdk } = await connect();
      const { bucket, key } = parseS3Location(folder);
      const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
      const entries: DoorEntry[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
          for (const object of page.Contents ?? []) {
            const name = object.Key!.slice(prefix.length);
            if (name !== '') entries.push({ name, kind: 'file', bytes: Number(object.Size ?? 0), modifiedMs: object.LastModified?.getTime() ?? 0 });
          }
          for (const sub of page.CommonPrefixes ?? []) entries.push({ name: sub.Prefix!.slice(prefix.length, -1), kind: 'folder', bytes: 0, modifiedMs: 0 });
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (error) {
        throw s3Error(folder, 'ListObjectsV2', error);
      }
      // A prefix with nothing under it is no folder, as a missing directory is not.
      if (entries.length === 0) throw new MissingObjectError(folder, `${folder}: no objects under this prefix`);
      return entries;
    },

    /**
     * With the cache, a conditional GET (If-None-Match: the cached ETag): 304 means the local
     * copy is current and the bytes come from it; otherwise the object is streamed and, when
     * it fits the cache, kept with its ETag for the next read (a replayed partition's).
     */
    async *chunks(location, chunkBytes) {
      const { client, sdk } = await connect();
      const { bucket, key } = parseS3Location(location);
      const cached = cache?.lookup(location);
      let body: AsyncIterable<Uint8Array>;
      let etag: string | undefined;
      try {
        const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, ...(cached ? { IfNoneMatch: cached.etag } : {}) }));
        body = object.Body as unknown as AsyncIterable<Uint8Array>;
        etag = object.ETag;
      } catch (error) {
        if (cached && (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304) {
          const copy = fs.readFileSync(cached.file);
          for (let at = 0; at < copy.length; at += chunkBytes) yield copy.subarray(at, at + chunkBytes);
          return;
        }
        throw s3Error(location, 'GetObject', error);
      }
      const parts: Buffer[] = [];
      let kept = 0;
      try {
        for await (const part of body) {
          const chunk = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
          if (cache && etag && kept + chunk.length <= options.cache!.bytes) {
            parts.push(Buffer.from(chunk)); // a copy: the consumer may reuse what it is given
            kept += chunk.length;
          }
          yield chunk;
        }
      } catch (error) {
        throw s3Error(location, 'reading the GetObject stream', error);
      }
      if (cache && etag && parts.length > 0) cache.store(location, etag, Buffer.concat(parts, kept));
    },

    async range(location, start, end) {
      const { client, sdk } = await connect();
      const { bucket, key } = parseS3Location(location);
      if (end <= start) return new ArrayBuffer(0);
      try {
        const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
        const bytes = await object.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      } catch (error) {
        throw s3Error(location, `GetObject bytes ${start}-${end - 1}`, error);
      }
    },

    join: (folder, name) => `${folder.replace(/\/+$/, '')}/${name}`,
  };
}
