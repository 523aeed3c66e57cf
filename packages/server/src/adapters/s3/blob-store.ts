// BlobStore on S3-compatible object storage (AWS S3, Ceph RGW, MinIO, R2...), through the AWS SDK
// v3: what cluster mode uses, so a file uploaded through one gateway downloads through any other.
// Large bodies go up as a multipart upload that is aborted when it fails, so an object appears
// whole or not at all: a stream through @aws-sdk/lib-storage, a local file (an upload's spool
// file) part by part straight from its byte ranges, so that no part is ever in memory.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
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

/** Multipart part size: the memory one put of a stream holds at once is about (queueSize + 1) x this. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Tries of one part of a file (the SDK does not retry a request whose body is a stream). */
const PART_TRIES = 3;

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

  /**
   * From the file's byte ranges: each part (or the whole object, when it fits in one) is read twice
   * from disk, once for its CRC32 (sent, and checked by the store) and once as the request's body,
   * instead of being gathered into a buffer of PART_BYTES as lib-storage does with a stream.
   */
  async putFile(key: string, file: string): Promise<{ size: number }> {
    checkBlobKey(key);
    const { size } = await fs.promises.stat(file);
    const object = { Bucket: this.bucket, Key: key };
    if (size <= PART_BYTES) {
      const ChecksumCRC32 = await crc32Of(file, 0, size);
      await tries(() =>
        this.client.send(
          new PutObjectCommand({ ...object, Body: fileBody(file, 0, size), ContentLength: size, ChecksumCRC32 }),
        ),
      );
      return { size };
    }
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ ...object, ChecksumAlgorithm: 'CRC32' }),
    );
    const count = Math.ceil(size / PART_BYTES);
    const parts: CompletedPart[] = [];
    let next = 0;
    let failed = false;
    const uploader = async () => {
      while (!failed && next < count) {
        const PartNumber = ++next;
        const start = (PartNumber - 1) * PART_BYTES;
        const length = Math.min(PART_BYTES, size - start);
        const ChecksumCRC32 = await crc32Of(file, start, length);
        const { ETag } = await tries(() =>
          this.client.send(
            new UploadPartCommand({
              ...object,
              UploadId,
              PartNumber,
              Body: fileBody(file, start, length),
              ContentLength: length,
              ChecksumCRC32,
            }),
          ),
        );
        parts.push({ PartNumber, ETag, ChecksumCRC32 });
      }
    };
    try {
      // Every uploader stopped before the abort, so that no part arrives after it.
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(QUEUE_SIZE, count) }, () =>
          uploader().catch((error: unknown) => {
            failed = true;
            throw error;
          }),
        ),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.client.send(
        new CompleteMultipartUploadCommand({ ...object, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ ...object, UploadId })).catch(() => undefined);
      throw error;
    }
    return { size };
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

/** `length` bytes of `file` from `start`, as a request body (an empty file: an empty body). */
function fileBody(file: string, start: number, length: number): Readable | Uint8Array {
  return length === 0 ? new Uint8Array(0) : fs.createReadStream(file, { start, end: start + length - 1 });
}

/** The base64 CRC32 (big-endian, as S3 takes it) of `length` bytes of `file` from `start`. */
async function crc32Of(file: string, start: number, length: number): Promise<string> {
  let crc = 0;
  if (length > 0) {
    for await (const chunk of fs.createReadStream(file, { start, end: start + length - 1 }) as AsyncIterable<Buffer>)
      crc = crc32(chunk, crc);
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

/** `send` again after a failure, PART_TRIES in all, each with a new body. */
async function tries<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= PART_TRIES || !retryable(error)) throw error;
      await sleep(100 * 2 ** attempt);
    }
  }
}

/** What the SDK itself would retry: throttling, a 5xx, or a connection that failed. */
function retryable(error: unknown): boolean {
  const code = status(error);
  return code === undefined || code === 429 || code >= 500;
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
