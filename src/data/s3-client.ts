// One S3 client per process (per set of options), shared by the door, the object store and
// the partition source. The SDK is imported on first use, so a process that never touches
// s3:// never loads it. Checksums only where the API requires them: S3-compatible stores
// differ on the SDK's newer defaults.
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3DoorOptions } from './s3-door.ts';

export type S3Sdk = typeof import('@aws-sdk/client-s3');

const clients = new Map<string, Promise<{ client: S3Client; sdk: S3Sdk }>>();

export function s3Client(options: Pick<S3DoorOptions, 'endpoint' | 'region' | 'forcePathStyle' | 'maxAttempts'>): Promise<{ client: S3Client; sdk: S3Sdk }> {
  const key = JSON.stringify([options.endpoint, options.region, options.forcePathStyle, options.maxAttempts]);
  let client = clients.get(key);
  if (!client) {
    client = import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: options.region,
        forcePathStyle: options.forcePathStyle,
        maxAttempts: options.maxAttempts,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    }));
    clients.set(key, client);
  }
  return client;
}
