// One WebSocket: the auth handshake, then frame -> use case -> exactly one reply per request.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { clientRequest, CLOSE_CODES, type ClientRequest, type RequestId, type ServerFrame } from '@messenger/protocol';
import { AppError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Logger } from '../observability/logger.js';
import { authTokenOf, openSocketOf, textFrame } from './frames.js';
import type { HubSession } from './hub.js';
import { FrameBudget } from './limits.js';
import type { GatewayServices } from './services.js';

export class Session implements HubSession {
  readonly sessionId = newId('s');
  userId = '';
  credentialId = '';
  credentialExpiresAt = Infinity;
  /** Set by each pong or frame; the ping loop closes a socket that stayed silent for a whole tick. */
  alive = true;
  private readonly socket: WebSocket;
  private readonly services: GatewayServices;
  private readonly logger: Logger;
  private readonly authTimer: NodeJS.Timeout;
  private readonly frames: FrameBudget;
  private readonly onAuthenticated: () => void;
  private state: 'auth' | 'authenticating' | 'ready' | 'closed' = 'auth';
  private status: 'online' | 'away' = 'online';
  /** Set once a close is under way: nothing more is queued on a socket being closed. */
  private closing = false;
  /** The socket corked in this turn, uncorked by the gateway's CorkBatch in the next check phase. */
  private corkedSocket: Socket | null = null;

  /** `onAuthenticated`: once, when the credential is accepted (the socket stops counting as anonymous). */
  constructor(deps: {
    socket: WebSocket;
    services: GatewayServices;
    logger: Logger;
    authTimeoutMs: number;
    onAuthenticated?: () => void;
  }) {
    this.socket = deps.socket;
    this.services = deps.services;
    this.logger = deps.logger;
    this.frames = new FrameBudget(deps.services.config.rateLimitFrames);
    this.onAuthenticated = deps.onAuthenticated ?? (() => undefined);
    this.authTimer = setTimeout(
      () => this.close(CLOSE_CODES.unauthenticated, 'no auth frame in time'),
      deps.authTimeoutMs,
    );
    this.socket.on('message', (data, isBinary) => void this.onFrame(isBinary ? null : data.toString()));
    this.socket.on('pong', () => (this.alive = true));
    this.socket.on('close', () => {
      this.onClose().catch((err: unknown) =>
        this.logger.warn({ err }, 'cleaning up a closed socket failed; its route and presence expire by TTL'),
      );
    });
    this.socket.on('error', (err) => this.logger.debug({ err }, 'socket error'));
  }

  /**
   * Writes one complete WebSocket frame (see frames.ts). Frames written in one turn of the event
   * loop leave in one write: the reply, the events. The bound applies to what earlier turns left
   * unsent, not to this turn's corked frames.
   */
  sendFrame(frame: Buffer): void {
    if (this.state === 'closed' || this.closing) return;
    const raw = openSocketOf(this.socket);
    if (!raw) return;
    if (!this.corkedSocket) {
      if (this.socket.bufferedAmount > this.services.config.maxSocketBufferBytes) {
        this.services.metrics.slowConsumerCloses.inc();
        this.close(CLOSE_CODES.slowConsumer, 'send buffer full; reconnect and catch up');
        return;
      }
      this.corkedSocket = raw;
      raw.cork();
      this.services.corks.add(this);
    }
    raw.write(frame);
  }

  /** Called once per turn by the gateway's CorkBatch for a session corked in that turn. */
  uncork(): void {
    const raw = this.corkedSocket;
    this.corkedSocket = null;
    raw?.uncork();
  }

  get presenceStatus(): 'online' | 'away' {
    return this.status;
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    this.socket.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open.
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }

  get isClosed(): boolean {
    return this.state === 'closed' || this.closing;
  }

  ping(): void {
    if (this.state !== 'closed') this.socket.ping();
  }

  terminate(): void {
    this.socket.terminate();
  }

  private send(frame: ServerFrame): void {
    this.sendFrame(textFrame(JSON.stringify(frame)));
  }

  private reply(id: RequestId | null, result: unknown): void {
    this.send({ type: 'reply', id, ok: true, result: this.services.present(result) });
  }

  private fail(id: RequestId | null, error: unknown): void {
    if (error instanceof AppError) {
      const retry = error.retryAfterSeconds !== undefined ? { retryAfterMs: error.retryAfterSeconds * 1000 } : {};
      this.send({ type: 'reply', id, ok: false, error: { code: error.code, message: error.message, ...retry } });
      return;
    }
    this.logger.error({ err: error }, 'request failed');
    this.send({
      type: 'reply',
      id,
      ok: false,
      error: { code: 'unavailable', message: 'the request could not be completed; retry' },
    });
  }

  private async onFrame(text: string | null): Promise<void> {
    this.alive = true;
    let frame: unknown;
    try {
      frame = text === null ? undefined : JSON.parse(text);
    } catch {
      frame = undefined;
    }
    if (this.state === 'auth') return this.onAuth(frame);
    const id = requestIdOf(frame);
    if (!this.withinBudget(frame, id)) return;
    if (this.state === 'authenticating')
      return this.fail(id, new AppError('invalid_request', 'wait for the ready frame'));
    if (this.state !== 'ready') return;
    const parsed = clientRequest.safeParse(frame);
    if (!parsed.success) {
      const type = typeof frame === 'object' && frame !== null ? (frame as { type?: unknown }).type : undefined;
      const message =
        frame === undefined
          ? 'frames must be JSON text'
          : typeof type === 'string' && !KNOWN.has(type)
            ? `unknown frame type "${type.slice(0, 40)}"`
            : (parsed.error.issues[0]?.message ?? 'invalid frame');
      return this.fail(id, new AppError('invalid_request', message));
    }
    try {
      this.reply(parsed.data.id, await this.handle(parsed.data));
    } catch (error) {
      this.fail(parsed.data.id, error);
    }
  }

  private async onAuth(frame: unknown): Promise<void> {
    const token = authTokenOf(frame);
    if (token === null)
      return this.close(CLOSE_CODES.unauthenticated, 'the first frame must be {"type":"auth","token":...}');
    this.state = 'authenticating';
    try {
      const { user, credentialId, expiresAt } = await this.services.authenticator.authenticate(token);
      clearTimeout(this.authTimer);
      if (this.state !== 'authenticating') return;
      this.userId = user.id;
      this.credentialId = credentialId;
      this.credentialExpiresAt = expiresAt;
      this.state = 'ready';
      this.onAuthenticated();
      // `ready` leaves in the same turn the socket joins the hub: no event can come before it.
      await this.services.attach(this, () => this.send({ type: 'ready', userId: user.id, sessionId: this.sessionId }));
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthenticated')
        return this.close(CLOSE_CODES.unauthenticated, 'wrong token');
      this.logger.error({ err: error }, 'auth failed');
      this.close(1011, 'server error');
    }
  }

  /**
   * Sends have their own limit per user (RATE_LIMIT_MESSAGES) and an outbox replays all of its
   * queue at once after an outage, so they are not counted; every other frame is.
   */
  private withinBudget(frame: unknown, id: RequestId | null): boolean {
    if ((frame as { type?: unknown } | null)?.type === 'send') return true;
    const verdict = this.frames.take();
    if (verdict === 'ok') return true;
    this.services.metrics.limitRefusals.inc({ limit: 'frames' });
    if (verdict === 'close') this.close(CLOSE_CODES.rateLimited, 'too many frames; reconnect later');
    else this.fail(id, new AppError('rate_limited', 'too many frames; slow down', this.frames.retryAfterSeconds));
    return false;
  }

  private async handle(req: ClientRequest): Promise<unknown> {
    const s = this.services;
    switch (req.type) {
      case 'send': {
        const started = performance.now();
        try {
          const { message, created } = await s.messaging.send(this.userId, req);
          s.metrics.messagesSent.inc({ transport: 'ws', outcome: created ? 'created' : 'duplicate' });
          s.metrics.sendAckSeconds.observe({ transport: 'ws' }, (performance.now() - started) / 1000);
          return { message };
        } catch (error) {
          s.metrics.messagesSent.inc({ transport: 'ws', outcome: 'error' });
          throw error;
        }
      }
      case 'read':
      case 'delivered':
        await s.messaging.receipt(this.userId, req.conversationId, req.type, req.seq);
        return {};
      case 'typing':
        await s.presence.typing(this.userId, req.conversationId);
        return {};
      case 'presence':
        this.status = req.status;
        await s.presence.deviceUp(this.userId, this.sessionId, req.status, s.presenceTtlMs);
        return {};
      case 'ping':
        return {};
    }
  }

  private async onClose(): Promise<void> {
    clearTimeout(this.authTimer);
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    if (wasReady) await this.services.detach(this);
  }
}

const KNOWN = new Set(['send', 'read', 'delivered', 'typing', 'presence', 'ping', 'auth']);

function requestIdOf(frame: unknown): RequestId | null {
  if (typeof frame !== 'object' || frame === null) return null;
  const id = (frame as { id?: unknown }).id;
  if (typeof id === 'string' && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return null;
}
