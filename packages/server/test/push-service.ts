// The far end of Web Push in tests: a local HTTPS push service that records and answers requests,
// the browser side of a subscription (its keys, and decryption of aes128gcm payloads), and the
// check of a VAPID Authorization header a push service makes.
import crypto from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { sleep } from './harness.js';

const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: crypto.ECDH; authSecret: string }): Buffer;
};

export interface PushRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  at: number;
}

/** A push service on 127.0.0.1 that records requests and answers each path from a script (default 201). */
export class PushService {
  readonly requests: PushRequest[] = [];
  readonly origin: string;
  private readonly answers = new Map<string, { status: number; headers?: Record<string, string> }[]>();

  private constructor(private readonly server: https.Server) {
    this.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(cert: { key: string; cert: string }): Promise<PushService> {
    let self: PushService | null = null;
    const server = https.createServer(cert, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        self!.requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
        const answer = self!.answers.get(req.url ?? '')?.shift() ?? { status: 201 };
        res.writeHead(answer.status, answer.headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new PushService(server);
    return self;
  }

  script(pathname: string, ...answers: { status: number; headers?: Record<string, string> }[]): void {
    this.answers.set(pathname, answers);
  }

  to(pathname: string): PushRequest[] {
    return this.requests.filter((r) => r.path === pathname);
  }

  async waitFor(pathname: string, count: number, timeoutMs = 5000): Promise<PushRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.to(pathname).length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} push(es) to ${pathname}, got ${this.to(pathname).length}`);
      await sleep(20);
    }
    return this.to(pathname);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The browser side of one subscription: its keys, and what it can check and decrypt. */
export class Browser {
  readonly ecdh = crypto.createECDH('prime256v1');
  readonly auth = crypto.randomBytes(16).toString('base64url');
  readonly path = `/push/${crypto.randomBytes(6).toString('hex')}`;

  constructor(private readonly service: PushService) {
    this.ecdh.generateKeys();
  }

  get endpoint(): string {
    return this.service.origin + this.path;
  }

  json() {
    return {
      endpoint: this.endpoint,
      expirationTime: null,
      keys: { p256dh: this.ecdh.getPublicKey('base64url'), auth: this.auth },
    };
  }

  decrypt(req: PushRequest): any {
    expect(req.headers['content-encoding']).toBe('aes128gcm');
    return JSON.parse(
      ece.decrypt(req.body, { version: 'aes128gcm', privateKey: this.ecdh, authSecret: this.auth }).toString('utf8'),
    );
  }
}

/** Checks `Authorization: vapid t=<jwt>, k=<key>` the way a push service does (RFC 8292). */
export function checkVapid(req: PushRequest, publicKey: string, audience: string): void {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(String(req.headers.authorization));
  expect(match, String(req.headers.authorization)).not.toBeNull();
  const [, jwt, k] = match!;
  expect(k).toBe(publicKey);
  const [head, claims, signature] = jwt!.split('.') as [string, string, string];
  expect(JSON.parse(Buffer.from(head, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
  const point = Buffer.from(publicKey, 'base64url');
  const key = crypto.createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const valid = crypto.verify(
    'sha256',
    Buffer.from(`${head}.${claims}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  expect(valid).toBe(true);
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { aud: string; exp: number; sub: string };
  const now = Date.now() / 1000;
  expect(body.aud).toBe(audience);
  expect(body.exp).toBeGreaterThan(now);
  expect(body.exp).toBeLessThanOrEqual(now + 24 * 3600 + 5);
  expect(body.sub).toMatch(/^(mailto:|https:)/);
}
