// The gateway's local hub: which sockets of which users this process holds, and the delivery
// handler that writes one bus delivery to all of them (one JSON encoding and one frame per delivery).
import type { Delivery } from '../core/routing/gateway-bus.js';
import type { Metrics } from '../observability/metrics.js';
import { eventFrame, textFrame } from './frames.js';

export interface HubSession {
  readonly sessionId: string;
  readonly userId: string;
  /** The device session or API key the socket authenticated with: revoking it closes the socket. */
  readonly credentialId: string;
  /** When that credential ends unless used again (ms; Infinity for a key), as read when it authenticated. */
  readonly credentialExpiresAt: number;
  /** Writes a complete WebSocket frame (frames.ts); the session closes itself if its buffer is over the bound. */
  sendFrame(frame: Buffer): void;
  close(code: number, reason: string): void;
}

/** The sockets of one credential here, and the latest expiry known for it. */
interface CredentialSockets {
  sockets: Set<HubSession>;
  expiresAt: number;
}

export class Hub {
  private readonly users = new Map<string, Set<HubSession>>();
  private readonly byCredential = new Map<string, CredentialSockets>();
  private readonly metrics: Metrics;

  constructor(deps: { metrics: Metrics }) {
    this.metrics = deps.metrics;
  }

  /** Returns true when this is the user's first socket on this gateway. */
  add(session: HubSession): boolean {
    let set = this.users.get(session.userId);
    const first = !set;
    if (!set) this.users.set(session.userId, (set = new Set()));
    set.add(session);
    const known = this.byCredential.get(session.credentialId);
    if (!known)
      this.byCredential.set(session.credentialId, {
        sockets: new Set([session]),
        expiresAt: session.credentialExpiresAt,
      });
    else {
      known.sockets.add(session);
      known.expiresAt = Math.max(known.expiresAt, session.credentialExpiresAt);
    }
    this.metrics.connections.inc();
    return first;
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  /** Returns true when it was the user's last socket on this gateway. */
  remove(session: HubSession): boolean {
    const set = this.users.get(session.userId);
    if (!set?.delete(session)) return false;
    const known = this.byCredential.get(session.credentialId);
    if (known?.sockets.delete(session) && known.sockets.size === 0) this.byCredential.delete(session.credentialId);
    this.metrics.connections.dec();
    if (set.size > 0) return false;
    this.users.delete(session.userId);
    return true;
  }

  /** Closes every socket authenticated with one of these credentials: they were revoked. */
  closeCredentials(credentialIds: string[], code: number, reason: string): void {
    for (const id of credentialIds)
      for (const session of this.byCredential.get(id)?.sockets ?? []) session.close(code, reason);
  }

  /** The credentials with open sockets here whose known expiry is at or before `now` (ms). */
  credentialsExpiredBy(now: number): string[] {
    const due: string[] = [];
    for (const [id, known] of this.byCredential) if (known.expiresAt <= now) due.push(id);
    return due;
  }

  /** Records later expiries read from the store (the credential was used elsewhere meanwhile). */
  extendCredentials(expiries: Map<string, number>): void {
    for (const [id, expiresAt] of expiries) {
      const known = this.byCredential.get(id);
      if (known) known.expiresAt = Math.max(known.expiresAt, expiresAt);
    }
  }

  sessions(): HubSession[] {
    return [...this.users.values()].flatMap((set) => [...set]);
  }

  userIds(): string[] {
    return [...this.users.keys()];
  }

  deliver = (delivery: Delivery): void => {
    // Encoded and framed once: every recipient's socket writes the same buffer. From the NATS bus the
    // event arrives as JSON bytes, which go into the frame without being decoded.
    let frame: Buffer | null = null;
    let delivered = 0;
    for (const userId of delivery.userIds) {
      const set = this.users.get(userId);
      if (!set) continue;
      frame ??= delivery.eventJson
        ? eventFrame(delivery.eventJson)
        : textFrame(JSON.stringify({ type: 'event', event: delivery.event }));
      for (const session of set) session.sendFrame(frame);
      delivered += set.size;
    }
    if (delivered > 0) this.metrics.eventsDelivered.inc(delivered);
  };
}
