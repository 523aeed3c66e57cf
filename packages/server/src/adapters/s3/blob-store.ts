// BlobStore on S3-compatible object storage (AWS S3, Ceph RGW, MinIO, R2...), through the AWS SDK
// v3: what cluster mode uses, so a file uploaded through one gateway downloads through any other.
// Large bodies go up as a multipart upload (@aws-sdk/lib-storage) that is aborted when the stream
// fails, so an object appears whole or not at all.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type BlobStore, type ByteRange, checkBlobKey } from '../../core/media/blob-store.js';

export interface S3Settings {
  /** Unset: AWS itself, by region. Set (Ceph, MinIO, a test server): path-style requests to it. */
  endpoint: string | null;
  bucket: string;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
}

/** Multipart part size: the memory one upload holds at once is about queueSize x this. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  private constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  /** Connects and creates the bucket when it does not exist yet. */
  static async open(settings: S3Settings): Promise<S3BlobStore> {
    const client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
      ...(settings.accessKeyId && settings.secretAccessKey
        ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
        : {}),
    });
    const store = new S3BlobStore(client, settings.bucket);
    try {
      await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    } catch (error) {
      if (status(error) !== 404) throw error;
      await client.send(new CreateBucketCommand({ Bucket: settings.bucket })).catch((err: unknown) => {
        // Another process created it meanwhile.
        if (status(err) !== 409) throw err;
      });
    }
    return store;
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    checkBlobKey(key);
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // lib-storage does not always notice a source that fails between two reads: fail it ourselves.
    const failed = new Promise<never>((_, reject) => body.once('error', reject));
    try {
      await Promise.race([upload.done(), failed]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      // A single-part object may have been written before the source failed; it is not whole.
      await this.delete(key).catch(() => undefined);
      throw error;
    }
    return { size };
  }

  async putFile(key: string, file: string): Promise<{ size: number }> {
    return this.put(key, fs.createReadStream(file));
  }

  async get(key: string, range?: ByteRange): Promise<Readable | null> {
    checkBlobKey(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return answer.Body as Readable;
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    checkBlobKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    checkBlobKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
