// An S3-protocol server for a test (s3rver on a free loopback port, its objects in a temp
// folder), with one bucket, and the real AWS SDK client pointed at it. Both are closed
// when the test file ends. s3rver checks the access key id (S3RVER), not SigV4 signatures.
import { after } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { tempDir } from './partitions.ts';

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export async function startS3(bucket: string): Promise<{ endpoint: string; client: S3Client }> {
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: tempDir('freshet-s3rver-'), silent: true });
  const { port } = await server.run();
  after(() => server.close());
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  after(() => client.destroy());
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { endpoint, client };
}
