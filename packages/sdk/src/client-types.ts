// What a MessengerClient is built with and what it tells the app: options, states and the event map.
import type { Conversation, EventOf, ServerEvent, ServerEventType } from '@messenger/protocol';
import type { WebSocketCtor } from './connection.js';
import type { MessengerError } from './errors.js';
import type { FetchLike } from './http-api.js';
import type { OutboxItem, OutboxStore } from './outbox-store.js';

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface MessengerClientOptions {
  /** The server's origin (and path prefix, if any), e.g. `https://chat.example.org`. `''` means this page's origin. */
  baseUrl: string;
  /** The credential: a device session's token (from sign-up or sign-in) or, for bots and scripts, an API key. One of the two. */
  token?: string;
  apiKey?: string;
  /** Defaults to `globalThis.WebSocket`; on Node 20 pass the `ws` package's. */
  WebSocket?: WebSocketCtor;
  /** Defaults to memory; pass a LocalStorageOutboxStore for sends that survive a reload. */
  outboxStore?: OutboxStore;
  /** Send `delivered` receipts for others' messages. Default true. */
  autoDelivered?: boolean;
  /** stableAfterMs: how long a caught-up connection must last before the next outage starts from short delays again. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number; stableAfterMs?: number };
  fetch?: FetchLike;
  /** WebSocket requests (and the wait for `ready`) fail with `unavailable` after this. Default 15 s. */
  requestTimeoutMs?: number;
  /** Defaults 25 s and 60 s, the server's own idea of a dead socket. */
  keepalive?: { pingIntervalMs?: number; idleTimeoutMs?: number };
  /** How long `delivered` receipts are gathered before one goes out per conversation. Default 200 ms. */
  deliveredDelayMs?: number;
}

/**
 * Emitted once per (re)connect, after catch-up has handed out every missed message: what the
 * socket could not tell the app while it was away (receipts, unread counts, mutes, edits,
 * reactions, deletions, chats created or joined meanwhile).
 */
export interface ResyncEvent {
  /**
   * Every conversation of the user, newest activity first, as listed at the start of this
   * catch-up. `message.created` events emitted since may be newer than a listed `lastSeq` /
   * `lastMessage`; keep the higher one.
   */
  conversations: Conversation[];
  /**
   * The listed conversations the client had never heard of before (no event, no tracked seq):
   * chats created or joined while away - the equivalent of the `conversation.updated` events
   * missed. On a client's first connect that is every conversation the app did not track.
   */
  added: Conversation[];
  /**
   * True when this client completed a catch-up before (an outage, or close() and connect()):
   * state the app built from events may be stale, so refetch the visible history - edits,
   * reactions and deletions are not caught up as events, only new messages are.
   */
  reconnect: boolean;
}

/**
 * Emitted once, when the server stops accepting the credential: the session was signed out on
 * another device, its password changed, it expired, or the key was deleted. The client is closed
 * by then and does not reconnect; the app returns to its sign-in screen.
 */
export interface UnauthenticatedEvent {
  /** `socket`: closed with 4401; `http`: a call answered 401. */
  source: 'socket' | 'http';
  /** Whether the credential had worked on this client before (a socket of it got `ready`): ended elsewhere, rather than wrong. */
  wasAccepted: boolean;
  error: MessengerError;
}

export type ClientEvents = { [K in ServerEventType]: EventOf<K> } & {
  event: ServerEvent;
  state: ClientState;
  outbox: OutboxItem[];
  resync: ResyncEvent;
  unauthenticated: UnauthenticatedEvent;
};
