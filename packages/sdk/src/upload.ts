// POST /v1/uploads with progress: XMLHttpRequest where there is one (browsers: fetch reports no
// upload progress over HTTP/1.1), fetch elsewhere (Node), where progress is 0 then 1.
import type { Upload, UploadResponse } from '@messenger/protocol';
import { errorFromBody, MessengerError, parseRetryAfter } from './errors.js';
import type { FetchLike } from './http-api.js';

export interface UploadOptions {
  /** The file's name as shown; a File's own name by default. */
  name?: string;
  /** Called with the share sent so far, 0..1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface UploadTarget {
  url: string;
  token: string;
  fetch: FetchLike;
}

/** Rejects with MessengerError (network failures as `unavailable`), or an AbortError when aborted. */
export function uploadFile(target: UploadTarget, file: Blob, opts: UploadOptions = {}): Promise<Upload> {
  const name = opts.name ?? (file as Blob & { name?: string }).name ?? 'file';
  const headers: Record<string, string> = {
    authorization: `Bearer ${target.token}`,
    'content-type': file.type || 'application/octet-stream',
    'x-filename': encodeURIComponent(name),
  };
  if (typeof XMLHttpRequest !== 'undefined') return viaXhr(target.url, headers, file, opts);
  return viaFetch(target, headers, file, opts);
}

function viaXhr(url: string, headers: Record<string, string>, file: Blob, opts: UploadOptions): Promise<Upload> {
  return new Promise<Upload>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
    };
    const abort = () => xhr.abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      let data: unknown;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = undefined;
      }
      if (xhr.status === 201 && data) {
        opts.onProgress?.(1);
        resolve((data as UploadResponse).upload);
      } else reject(errorFromBody(xhr.status, data, parseRetryAfter(xhr.getResponseHeader('retry-after'))));
    };
    xhr.onerror = () => {
      done();
      reject(new MessengerError('unavailable', 'upload failed: network error'));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('upload aborted', 'AbortError'));
    };
    if (opts.signal?.aborted) return xhr.onabort(new ProgressEvent('abort'));
    xhr.send(file);
  });
}

async function viaFetch(
  target: UploadTarget,
  headers: Record<string, string>,
  file: Blob,
  opts: UploadOptions,
): Promise<Upload> {
  opts.onProgress?.(0);
  let response: Response;
  try {
    response = await target.fetch(target.url, {
      method: 'POST',
      headers,
      body: file,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (cause) {
    if ((cause as Error)?.name === 'AbortError') throw cause;
    throw new MessengerError('unavailable', `upload failed: ${(cause as Error)?.message ?? 'network error'}`, {
      cause,
    });
  }
  const data: unknown = await response.json().catch(() => undefined);
  if (response.status !== 201 || !data)
    throw errorFromBody(response.status, data, parseRetryAfter(response.headers.get('retry-after')));
  opts.onProgress?.(1);
  return (data as UploadResponse).upload;
}
