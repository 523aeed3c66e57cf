// Fetches a web page for a link preview without becoming a way into the private network (SSRF):
// public addresses only, checked on the address the socket connects to (after DNS, so a name
// that resolves to 10.x or rebinds between check and use is refused), on every redirect, with
// limits on time, redirects and bytes. Hosts in `allowedHosts` skip the address check (tests).
// A preview's image comes the same way, so the reader's browser never asks the linked site.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { FetchedPage, PageFetcher } from '../../core/media/link-previews.js';

const PRIVATE = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(address, prefix, 'ipv6');

/** Whether connecting to `address` reaches only the public internet. */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  const mapped = family === 6 ? address.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/) : null;
  if (mapped) return !PRIVATE.check(mapped[1]!, 'ipv4');
  return !PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface PageFetcherDeps {
  allowedHosts?: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  /** An image larger than this is refused (not cut short: half an image is no image). */
  maxImageBytes?: number;
  maxRedirects?: number;
}

/** The image types a preview may show; anything else is refused before its body is read. */
const IMAGE_TYPE = /^image\/(jpeg|png|webp|gif)\b/i;

type Kind = 'page' | 'image';

export class GuardedPageFetcher implements PageFetcher {
  private readonly allowed: Set<string>;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxImageBytes: number;
  private readonly maxRedirects: number;

  constructor(deps: PageFetcherDeps = {}) {
    this.allowed = new Set((deps.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.timeoutMs = deps.timeoutMs ?? 5_000;
    this.maxBytes = deps.maxBytes ?? 512 * 1024;
    this.maxImageBytes = deps.maxImageBytes ?? this.maxBytes;
    this.maxRedirects = deps.maxRedirects ?? 3;
  }

  /** The HTML at `url` after redirects; rejects for a private address, a non-HTML answer or a limit passed. */
  async fetch(url: string): Promise<FetchedPage> {
    const { url: at, body } = await this.follow(url, 'page');
    return { url: at, html: body.toString('utf8') };
  }

  /** The bytes of the image at `url`, by the same rules; rejects for a non-image type or one over maxImageBytes. */
  async fetchImage(url: string): Promise<Buffer> {
    return (await this.follow(url, 'image')).body;
  }

  private async follow(url: string, kind: Kind): Promise<{ url: string; body: Buffer }> {
    const deadline = Date.now() + this.timeoutMs;
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      const answer = await this.once(current, deadline, kind);
      if ('location' in answer) {
        if (hop >= this.maxRedirects) throw new Error('too many redirects');
        current = new URL(answer.location, current);
        continue;
      }
      return { url: current.toString(), body: answer.body };
    }
  }

  private once(url: URL, deadline: number, kind: Kind): Promise<{ location: string } | { body: Buffer }> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error('not http(s)'));
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const trusted = this.allowed.has(host);
    const lookup: net.LookupFunction = (hostname, options, done) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return done(err, '', 0);
        const list = addresses as dns.LookupAddress[];
        const usable = trusted ? list : list.filter((a) => isPublicAddress(a.address));
        if (usable.length === 0 || usable.length !== list.length)
          return done(new Error(`${hostname} resolves to a private address`), '', 0);
        if ((options as { all?: boolean }).all)
          return (done as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
        done(null, usable[0]!.address, usable[0]!.family);
      });
    };
    // A literal address is connected to as is; lookup is not called for it.
    if (net.isIP(host) && !trusted && !isPublicAddress(host))
      return Promise.reject(new Error(`${host} is a private address`));
    const get = url.protocol === 'https:' ? https.get : http.get;
    const image = kind === 'image';
    const limit = image ? this.maxImageBytes : this.maxBytes;
    const accept = image ? 'image/webp,image/png,image/jpeg,image/gif' : 'text/html';
    return new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) return reject(new Error('timed out'));
      const req = get(
        url,
        { lookup, timeout: left, headers: { accept, 'user-agent': 'MessengerLinkPreview/1.0' } },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            return resolve({ location: res.headers.location });
          }
          const type = String(res.headers['content-type'] ?? '');
          const wanted = image ? IMAGE_TYPE.test(type) : /^text\/html|^application\/xhtml\+xml/i.test(type);
          if (status !== 200 || !wanted) {
            res.resume();
            return reject(new Error(`not ${image ? 'an image' : 'an HTML page'} (${status} ${type})`));
          }
          if (image && Number(res.headers['content-length'] ?? 0) > limit) {
            res.destroy();
            return reject(new Error(`the image is over ${limit} bytes`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) {
              res.destroy();
              if (image) return reject(new Error(`the image is over ${limit} bytes`));
              // The head of a page is enough: stop reading past the limit rather than refusing.
              chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
              return resolve({ body: Buffer.concat(chunks) });
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(left, () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });
  }
}
