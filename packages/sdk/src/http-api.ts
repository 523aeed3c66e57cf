// Typed methods for the v1 HTTP endpoints: one method per endpoint, errors as MessengerError.
import {
  LIMITS,
  type AccountExport,
  type ApiKeyCreatedResponse,
  type ApiKeyInfo,
  type ApiKeysResponse,
  type Conversation,
  type ConversationResponse,
  type ConversationsResponse,
  type CreateUserResponse,
  type DeviceSession,
  type MeResponse,
  type Message,
  type MessageResponse,
  type MessagesResponse,
  type PeopleSearchResponse,
  type PresenceInfo,
  type PresenceResponse,
  type PushSubscriptionBody,
  type SearchResponse,
  type SearchResult,
  type SessionCreatedResponse,
  type SessionsResponse,
  type Upload,
  type User,
  type UserResponse,
  type VapidKeyResponse,
} from '@messenger/protocol';
import { MessengerError } from './errors.js';
import { HttpTransport } from './http-transport.js';
import { SafetyApi } from './safety-api.js';
import { type UploadOptions, uploadFile } from './upload.js';

export type FetchLike = typeof fetch;

export interface HttpApiOptions {
  baseUrl: string;
  /** The credential: a device session's token or an API key (the server takes either as Bearer). */
  token?: string;
  apiKey?: string;
  fetch?: FetchLike;
  /** Called when an authenticated call answers 401: the credential no longer works (signed out elsewhere, expired). */
  onUnauthenticated?: (error: MessengerError) => void;
}

export interface SignUpBody {
  username: string;
  displayName?: string;
  /** 8-256 characters. */
  password: string;
}

export interface SignInBody {
  username: string;
  password: string;
  /** Shown in the account's device list, e.g. "Firefox on Linux". */
  deviceName?: string;
}

/** The shape of DOM's PushSubscriptionJSON, restated so Node consumers need no DOM types. */
export interface BrowserPushSubscriptionJson {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

export class HttpApi {
  readonly #base: string;
  readonly #credential: string;
  readonly #fetch: FetchLike;
  readonly #http: HttpTransport;
  /** Message requests, group administration, blocks, reports and the operators' routes. */
  readonly safety: SafetyApi;

  constructor(opts: HttpApiOptions) {
    this.#base = opts.baseUrl.replace(/\/+$/, '');
    this.#credential = opts.token ?? opts.apiKey ?? '';
    // Browsers throw "Illegal invocation" when fetch is called with another `this`.
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#http = new HttpTransport({
      base: this.#base,
      credential: this.#credential,
      fetch: this.#fetch,
      onUnauthenticated: opts.onUnauthenticated,
    });
    this.safety = new SafetyApi({
      json: (method, path, o) => this.#http.json(method, path, o),
      call: (method, path, o) => this.#http.call(method, path, o),
    });
  }

  /** Sign-up needs no key, so it is usable before a client exists. */
  static async createUser(
    baseUrl: string,
    body: { username: string; displayName?: string },
    fetchImpl?: FetchLike,
  ): Promise<CreateUserResponse> {
    return (
      await anonymous(baseUrl, fetchImpl).#http.call<CreateUserResponse>('POST', '/v1/users', { body, auth: false })
    ).data;
  }

  /** Sign-up with a password: the answer is a device session for this device, not an API key. */
  static async signUp(baseUrl: string, body: SignUpBody, fetchImpl?: FetchLike): Promise<SessionCreatedResponse> {
    return anonymous(baseUrl, fetchImpl).#http.json<SessionCreatedResponse>('POST', '/v1/users', { body, auth: false });
  }

  /** A wrong username and a wrong password both reject with `unauthenticated`; too many tries with `rate_limited`. */
  static async signIn(baseUrl: string, body: SignInBody, fetchImpl?: FetchLike): Promise<SessionCreatedResponse> {
    return anonymous(baseUrl, fetchImpl).#http.json<SessionCreatedResponse>('POST', '/v1/sessions', {
      body,
      auth: false,
    });
  }

  /** Ends the session this API holds; its token answers 401 from then on. A session that had already ended is no error. */
  async signOut(): Promise<void> {
    try {
      await this.#http.call('DELETE', '/v1/sessions/current', { expect401: true });
    } catch (error) {
      if (!(error instanceof MessengerError && error.code === 'unauthenticated')) throw error;
    }
  }

  /** The user's device sessions; `current` marks the one this API holds. */
  async listSessions(): Promise<DeviceSession[]> {
    return (await this.#http.json<SessionsResponse>('GET', '/v1/sessions')).sessions;
  }

  /** Signs that device out: its token stops working and its sockets close within seconds. */
  async endSession(id: string): Promise<void> {
    await this.#http.call('DELETE', `/v1/sessions/${enc(id)}`);
  }

  /**
   * Every other session ends. An account without a password yet (made with an API key) sets one
   * with no `currentPassword`; a wrong current password rejects with `forbidden`.
   */
  async changePassword(body: { currentPassword?: string; newPassword: string }): Promise<void> {
    await this.#http.call('PUT', '/v1/me/password', { body });
  }

  /** `key` is shown only in this answer. */
  async createApiKey(name: string): Promise<ApiKeyCreatedResponse> {
    return this.#http.json<ApiKeyCreatedResponse>('POST', '/v1/me/api-keys', { body: { name } });
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    return (await this.#http.json<ApiKeysResponse>('GET', '/v1/me/api-keys')).apiKeys;
  }

  async deleteApiKey(id: string): Promise<void> {
    await this.#http.call('DELETE', `/v1/me/api-keys/${enc(id)}`);
  }

  async me(): Promise<User> {
    return (await this.#http.json<UserResponse>('GET', '/v1/me')).user;
  }

  /** The caller and whether it is an operator (named in the server's ADMIN_USERNAMES). */
  async whoAmI(): Promise<MeResponse> {
    return this.#http.json<MeResponse>('GET', '/v1/me');
  }

  /** Everyone who shares a conversation with the user gets `user.updated`. Only a null avatar for now. */
  async updateProfile(body: { displayName?: string; avatarUploadId?: string | null }): Promise<User> {
    return (await this.#http.json<UserResponse>('PATCH', '/v1/me', { body })).user;
  }

  /**
   * Deletes the account for good: every session and key ends (this API's token too). `password` is
   * required when the account has one (a wrong one rejects with `forbidden`); with `deleteMessages`
   * every message the user sent is deleted for everyone.
   */
  async deleteAccount(body: { password?: string; deleteMessages?: boolean } = {}): Promise<void> {
    await this.#http.call('DELETE', '/v1/me', { body });
  }

  /** The user's data: profile, sessions and keys (no secrets), conversations, messages they sent. */
  async exportData(): Promise<AccountExport> {
    return this.#http.json<AccountExport>('GET', '/v1/me/export');
  }

  /**
   * People whose username or display name starts with `q`: one page, at most 20 (no cursor).
   * Rate-limited per user (`rate_limited`).
   */
  async searchPeople(q: string, limit?: number): Promise<User[]> {
    return (await this.#http.json<PeopleSearchResponse>('GET', '/v1/users/search', { query: { q, limit } })).users;
  }

  /** Off: the caller is left out of everyone's people search (the exact username lookup still finds it). */
  async setDiscoverable(discoverable: boolean): Promise<void> {
    await this.#http.call('PUT', '/v1/me/settings', { body: { discoverable } });
  }

  async lookupUser(username: string): Promise<User> {
    return (await this.#http.json<UserResponse>('GET', '/v1/users', { query: { username } })).user;
  }

  /** `created` tells a new direct chat (201) from the existing one (200). */
  async createConversation(body: {
    memberIds: string[];
    title?: string;
  }): Promise<{ conversation: Conversation; created: boolean }> {
    const { status, data } = await this.#http.call<ConversationResponse>('POST', '/v1/conversations', { body });
    return { conversation: data.conversation, created: status === 201 };
  }

  async listConversations(opts: { limit?: number; cursor?: string } = {}): Promise<ConversationsResponse> {
    return this.#http.json<ConversationsResponse>('GET', '/v1/conversations', {
      query: { limit: opts.limit, cursor: opts.cursor },
    });
  }

  async listAllConversations(): Promise<Conversation[]> {
    return this.#listAll((query) => this.listConversations(query));
  }

  /** Every message request of the caller (`GET /v1/conversations?requests=true`, all pages). */
  async listAllRequests(): Promise<Conversation[]> {
    return this.#listAll((query) => this.safety.listRequests(query));
  }

  async #listAll(
    list: (query: { limit: number; cursor?: string }) => Promise<ConversationsResponse>,
  ): Promise<Conversation[]> {
    const all: Conversation[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await list({ limit: LIMITS.maxChatsLimit, ...(cursor ? { cursor } : {}) });
      // Activity reorders the list while we page; keep the first sighting of each conversation.
      for (const c of page.conversations) {
        if (seen.has(c.id)) continue;
        seen.add(c.id);
        all.push(c);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  async getConversation(id: string): Promise<Conversation> {
    return (await this.#http.json<ConversationResponse>('GET', `/v1/conversations/${enc(id)}`)).conversation;
  }

  async addMembers(id: string, userIds: string[]): Promise<Conversation> {
    return (
      await this.#http.json<ConversationResponse>('POST', `/v1/conversations/${enc(id)}/members`, { body: { userIds } })
    ).conversation;
  }

  async leave(id: string): Promise<void> {
    await this.#http.call('DELETE', `/v1/conversations/${enc(id)}/members/me`);
  }

  async sendMessage(
    conversationId: string,
    body: { clientMsgId: string; body: string; replyToId?: string | null; attachments?: string[] },
  ): Promise<Message> {
    return (
      await this.#http.json<MessageResponse>('POST', `/v1/conversations/${enc(conversationId)}/messages`, { body })
    ).message;
  }

  /** Streams the file to POST /v1/uploads; attach the answer's id to a send (`attachments`). */
  upload(file: Blob, opts: UploadOptions = {}): Promise<Upload> {
    return uploadFile({ url: `${this.#base}/v1/uploads`, token: this.#credential, fetch: this.#fetch }, file, opts);
  }

  async getMessages(
    conversationId: string,
    opts: { afterSeq?: number; beforeSeq?: number; limit?: number } = {},
  ): Promise<Message[]> {
    const query = { afterSeq: opts.afterSeq, beforeSeq: opts.beforeSeq, limit: opts.limit };
    return (
      await this.#http.json<MessagesResponse>('GET', `/v1/conversations/${enc(conversationId)}/messages`, { query })
    ).messages;
  }

  async editMessage(conversationId: string, messageId: string, body: string): Promise<Message> {
    return (await this.#http.json<MessageResponse>('PATCH', messagePath(conversationId, messageId), { body: { body } }))
      .message;
  }

  async deleteMessage(conversationId: string, messageId: string, scope: 'everyone' | 'me'): Promise<void> {
    await this.#http.call('DELETE', messagePath(conversationId, messageId), { query: { for: scope } });
  }

  /** The sender removes the message's link preview (and the server's copy of its image). */
  async removeLinkPreview(conversationId: string, messageId: string): Promise<void> {
    await this.#http.call('DELETE', `${messagePath(conversationId, messageId)}/link-preview`);
  }

  async react(conversationId: string, messageId: string, emoji: string): Promise<Message> {
    return (
      await this.#http.json<MessageResponse>('PUT', `${messagePath(conversationId, messageId)}/reaction`, {
        body: { emoji },
      })
    ).message;
  }

  async unreact(conversationId: string, messageId: string): Promise<void> {
    await this.#http.call('DELETE', `${messagePath(conversationId, messageId)}/reaction`);
  }

  async markRead(conversationId: string, seq: number): Promise<void> {
    await this.#http.call('POST', `/v1/conversations/${enc(conversationId)}/read`, { body: { seq } });
  }

  async typing(conversationId: string): Promise<void> {
    await this.#http.call('POST', `/v1/conversations/${enc(conversationId)}/typing`);
  }

  async setMuted(conversationId: string, muted: boolean): Promise<Conversation> {
    return (
      await this.#http.json<ConversationResponse>('PUT', `/v1/conversations/${enc(conversationId)}/settings`, {
        body: { muted },
      })
    ).conversation;
  }

  async setPresenceVisible(visible: boolean): Promise<void> {
    await this.#http.call('PUT', '/v1/me/settings', { body: { presenceVisible: visible } });
  }

  /** Users who share no conversation with the caller are absent from the answer. */
  async getPresence(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    // The server rejects an empty list; asking about nobody needs no round trip.
    if (userIds.length === 0) return {};
    return (await this.#http.json<PresenceResponse>('GET', '/v1/presence', { query: { userIds: userIds.join(',') } }))
      .presence;
  }

  async search(opts: { q: string; conversationId?: string; limit?: number }): Promise<SearchResult[]> {
    const query = { q: opts.q, conversationId: opts.conversationId, limit: opts.limit };
    return (await this.#http.json<SearchResponse>('GET', '/v1/search', { query })).results;
  }

  async vapidPublicKey(): Promise<string> {
    return (await this.#http.json<VapidKeyResponse>('GET', '/v1/push/vapid-public-key')).publicKey;
  }

  /** Accepts `PushSubscription.toJSON()` as the browser gives it (its `keys` are typed optional there). */
  async subscribePush(sub: PushSubscriptionBody | BrowserPushSubscriptionJson): Promise<void> {
    await this.#http.call('POST', '/v1/push/subscriptions', { body: sub });
  }

  async unsubscribePush(endpoint: string): Promise<void> {
    await this.#http.call('DELETE', '/v1/push/subscriptions', { query: { endpoint } });
  }
}

function anonymous(baseUrl: string, fetchImpl: FetchLike | undefined): HttpApi {
  return new HttpApi({ baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function messagePath(conversationId: string, messageId: string): string {
  return `/v1/conversations/${enc(conversationId)}/messages/${enc(messageId)}`;
}
