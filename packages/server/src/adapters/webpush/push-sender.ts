// WebPushSender: the PushSender over the `web-push` library (aes128gcm payloads, VAPID JWTs).
import webpush from 'web-push';
import type { PushOptions, PushResult, PushSender } from '../../core/notifications/push-sender.js';
import type { PushSubscriptionRecord } from '../../core/notifications/subscriptions.js';
import type { VapidKeys } from './vapid-keys.js';

export class WebPushSender implements PushSender {
  readonly publicKey: string;
  private readonly vapid: webpush.VapidKeys & { subject: string };
  private readonly timeoutMs: number;

  constructor(deps: { keys: VapidKeys; subject: string; timeoutMs?: number }) {
    this.publicKey = deps.keys.publicKey;
    this.vapid = { subject: deps.subject, publicKey: deps.keys.publicKey, privateKey: deps.keys.privateKey };
    this.timeoutMs = deps.timeoutMs ?? 10_000;
  }

  async send(sub: PushSubscriptionRecord, payload: string, opts: PushOptions): Promise<PushResult> {
    // The routes only store https endpoints; this keeps a bad row from ever becoming a plain request.
    if (!sub.endpoint.startsWith('https://')) return { outcome: 'rejected', status: null };
    try {
      await webpush.sendNotification(
        { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
        payload,
        {
          vapidDetails: this.vapid,
          TTL: opts.ttlSeconds,
          urgency: opts.urgency,
          topic: opts.topic,
          contentEncoding: 'aes128gcm',
          timeout: this.timeoutMs,
        },
      );
      return { outcome: 'sent' };
    } catch (error) {
      return classify(error);
    }
  }
}

function classify(error: unknown): PushResult {
  if (error instanceof webpush.WebPushError) {
    const status = error.statusCode;
    if (status === 404 || status === 410) return { outcome: 'gone', status };
    if (status === 429 || status >= 500)
      return { outcome: 'retry', status, retryAfterMs: retryAfterMs(error.headers?.['retry-after']) };
    return { outcome: 'rejected', status };
  }
  // Connection refused/reset, DNS, TLS, 'Socket timeout': the service may answer later.
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' || e?.message === 'Socket timeout')
    return { outcome: 'retry', status: null, retryAfterMs: null };
  // Anything else was thrown before sending (a key web-push cannot use): retrying cannot help.
  return { outcome: 'rejected', status: null };
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function retryAfterMs(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
