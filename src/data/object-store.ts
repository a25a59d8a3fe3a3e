// Writing and deleting objects in S3, for the artifact store (checkpoints and exports kept
// in a bucket): PutObject, GetObject whole, and deleting every object under a prefix. The
// client is set up like the S3 door's (data/s3-door.ts: the same options, the SDK loaded on
// first use); errors name the bucket and key, with code ENOENT for a missing object.
import { doorSetup } from './file-door.ts';
import { parseS3Location } from './s3-door.ts';
import { s3Client } from './s3-client.ts';

function connect() {
  const options = doorSetup().s3;
  if (!options) throw new Error('no S3 client is configured (s3: in the configuration, and an s3:// location)');
  return s3Client(options);
}

function failure(location: string, what: string, error: unknown): Error {
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const missing = name === 'NoSuchKey' || name === 'NotFound' || status === 404;
  return Object.assign(new Error(`${location}: ${what} failed: ${name}${status ? ` (HTTP ${status})` : ''}`, { cause: error }), { code: missing ? 'ENOENT' : name });
}

export async function putObject(location: string, body: Buffer | string): Promise<void> {
  const { client, sdk } = await connect();
  const { bucket, key } = parseS3Location(location);
  try {
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } catch (error) {
    throw failure(location, 'PutObject', error);
  }
}

export async function getObject(location: string): Promise<Buffer> {
  const { client, sdk } = await connect();
  const { bucket, key } = parseS3Location(location);
  try {
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch (error) {
    throw failure(location, 'GetObject', error);
  }
}

/** Deletes every object under `prefix` (a folder's location); returns how many. */
export async function deleteObjects(prefix: string): Promise<number> {
  const { client, sdk } = await connect();
  const { bucket, key } = parseS3Location(prefix);
  const folder = key.endsWith('/') ? key : `${key}/`;
  let deleted = 0;
  let token: string | undefined;
  try {
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: folder, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
        deleted += 1;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (error) {
    throw failure(prefix, 'deleting objects', error);
  }
  return deleted;
}
