// A private S3 endpoint for the tests: s3rver, a real S3-protocol server in Node, in this process.
// This machine has no Ceph or MinIO binaries; s3rver speaks the same protocol to the AWS SDK.
import S3rver from 's3rver';

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export async function startS3rver(directory: string): Promise<{ url: string; stop(): Promise<void> }> {
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  return { url: `http://127.0.0.1:${port}`, stop: () => server.close() };
}
