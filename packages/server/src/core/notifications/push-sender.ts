// PushSender: hands one encrypted notification to a browser's push service (RFC 8030/8291/8292).
import type { PushSubscriptionRecord } from './subscriptions.js';

export interface PushOptions {
  /** How long the push service keeps it for an offline browser. */
  ttlSeconds: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** Replaces an undelivered notification with the same topic (<= 32 base64url characters). */
  topic: string;
}

export type PushResult =
  | { outcome: 'sent' }
  /** 404/410: the subscription is dead for good; delete it. */
  | { outcome: 'gone'; status: number }
  /** 429, 5xx or a network failure: worth trying again, not before `retryAfterMs` if the service said so. */
  | { outcome: 'retry'; status: number | null; retryAfterMs: number | null }
  /** Any other answer (400, 403, 413...): retrying the same request would not help. */
  | { outcome: 'rejected'; status: number | null };

export interface PushSender {
  /** The VAPID public key (uncompressed P-256, base64url) browsers pass as applicationServerKey. */
  readonly publicKey: string;
  /**
   * One attempt: encrypts `payload` (aes128gcm) for the subscription's keys, signs a VAPID JWT and
   * POSTs over https with a bounded timeout. Never retries and never throws for what the push
   * service answers; the result says what to do. Accepted (2xx) means stored by the push service,
   * not shown: delivery to the browser stays best-effort.
   */
  send(subscription: PushSubscriptionRecord, payload: string, opts: PushOptions): Promise<PushResult>;
}
