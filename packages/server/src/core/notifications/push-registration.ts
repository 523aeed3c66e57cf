// Subscribe/unsubscribe use cases. The endpoint is a URL the server will later POST to, so it is
// checked against an allow-list of push service origins (SSRF guard) before it is stored.
import type { PushSubscriptionBody } from '@messenger/protocol';
import { invalid } from '../../domain/errors.js';
import type { PushSubscriptions } from './subscriptions.js';

/** Browsers one user may register; the oldest give way, so one account cannot fan out without bound. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

export class PushRegistration {
  readonly vapidPublicKey: string;
  private readonly subscriptions: PushSubscriptions;
  private readonly allowedOrigins: Set<string>;

  constructor(deps: { subscriptions: PushSubscriptions; vapidPublicKey: string; allowedOrigins: string[] }) {
    this.subscriptions = deps.subscriptions;
    this.vapidPublicKey = deps.vapidPublicKey;
    this.allowedOrigins = new Set(deps.allowedOrigins.flatMap((o) => originOf(o) ?? []));
  }

  async subscribe(userId: string, body: PushSubscriptionBody): Promise<void> {
    const endpoint = this.checkEndpoint(body.endpoint);
    if (
      decodedLength(body.keys.p256dh) !== 65 ||
      !Buffer.from(body.keys.p256dh, 'base64url')
        .subarray(0, 1)
        .equals(Buffer.from([4]))
    ) {
      throw invalid('keys.p256dh: must be an uncompressed P-256 public key, base64url');
    }
    if (decodedLength(body.keys.auth) !== 16) throw invalid('keys.auth: must be 16 bytes, base64url');
    await this.subscriptions.save({
      userId,
      endpoint,
      p256dh: body.keys.p256dh,
      auth: body.keys.auth,
      createdAt: new Date().toISOString(),
    });
    const held = await this.subscriptions.forUsers([userId]);
    for (const old of held.slice(0, Math.max(0, held.length - MAX_SUBSCRIPTIONS_PER_USER)))
      await this.subscriptions.remove(userId, old.endpoint);
  }

  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    await this.subscriptions.remove(userId, endpoint);
  }

  private checkEndpoint(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalid('endpoint: not a URL');
    }
    if (url.protocol !== 'https:') throw invalid('endpoint: must be https');
    if (url.username || url.password) throw invalid('endpoint: must not carry credentials');
    if (!this.allowedOrigins.has(url.origin)) throw invalid(`endpoint: ${url.origin} is not an allowed push service`);
    return raw;
  }
}

function originOf(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

function decodedLength(b64url: string): number {
  return /^[A-Za-z0-9_-]+={0,2}$/.test(b64url) ? Buffer.from(b64url, 'base64url').length : -1;
}
