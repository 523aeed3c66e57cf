// Typed methods for the v1.1 safety endpoints: message requests, group administration, blocks,
// reports and the operators' routes. Reached as `HttpApi.safety`; errors as MessengerError.
import type {
  BlockedUsersResponse,
  Conversation,
  ConversationResponse,
  CreateReportBody,
  MemberRole,
  Report,
  ReportResponse,
  ReportsResponse,
  RequestsResponse,
  UpdateConversationBody,
  User,
} from '@messenger/protocol';

type Query = Record<string, string | number | undefined>;

/** The transport HttpApi lends: `json` rejects an empty answer, `call` does not. */
export interface SafetyTransport {
  json<T>(method: string, path: string, opts?: { body?: unknown; query?: Query }): Promise<T>;
  call(method: string, path: string, opts?: { body?: unknown; query?: Query }): Promise<unknown>;
}

const enc = encodeURIComponent;
const conv = (id: string) => `/v1/conversations/${enc(id)}`;

export class SafetyApi {
  readonly #t: SafetyTransport;

  constructor(transport: SafetyTransport) {
    this.#t = transport;
  }

  /** Conversations the caller has not accepted yet; they are not in `listConversations`. */
  async listRequests(opts: { limit?: number; cursor?: string } = {}): Promise<RequestsResponse> {
    return this.#t.json<RequestsResponse>('GET', '/v1/conversations', {
      query: { requests: 'true', limit: opts.limit, cursor: opts.cursor },
    });
  }

  /** The conversation joins the chat list; the sender then sees the caller's receipts and typing. */
  async acceptRequest(conversationId: string): Promise<Conversation> {
    return (await this.#t.json<ConversationResponse>('POST', `${conv(conversationId)}/accept`)).conversation;
  }

  /** A direct chat is hidden until its next message; a group is left. */
  async declineRequest(conversationId: string): Promise<void> {
    await this.#t.call('POST', `${conv(conversationId)}/decline`);
  }

  /** Group admins only: rename, or set whether members who are not admins may add members. */
  async updateConversation(conversationId: string, body: UpdateConversationBody): Promise<Conversation> {
    return (await this.#t.json<ConversationResponse>('PATCH', conv(conversationId), { body })).conversation;
  }

  async setMemberRole(conversationId: string, userId: string, role: MemberRole): Promise<Conversation> {
    return (
      await this.#t.json<ConversationResponse>('PUT', `${conv(conversationId)}/members/${enc(userId)}`, {
        body: { role },
      })
    ).conversation;
  }

  /** Group admins only; the removed member gets one `conversation.updated`, then nothing from the group. */
  async removeMember(conversationId: string, userId: string): Promise<void> {
    await this.#t.call('DELETE', `${conv(conversationId)}/members/${enc(userId)}`);
  }

  /** Idempotent. The blocked user cannot send to the caller's direct chat, add them or start a chat. */
  async block(userId: string): Promise<void> {
    await this.#t.call('PUT', `/v1/blocks/${enc(userId)}`);
  }

  async unblock(userId: string): Promise<void> {
    await this.#t.call('DELETE', `/v1/blocks/${enc(userId)}`);
  }

  /** Most recent first. */
  async listBlocked(): Promise<User[]> {
    return (await this.#t.json<BlockedUsersResponse>('GET', '/v1/blocks')).users;
  }

  /** A reported message is copied as the caller sees it now. */
  async report(body: CreateReportBody): Promise<Report> {
    return (await this.#t.json<ReportResponse>('POST', '/v1/reports', { body })).report;
  }

  /** Operators only (`forbidden` otherwise); newest first. */
  async adminReports(): Promise<Report[]> {
    return (await this.#t.json<ReportsResponse>('GET', '/v1/admin/reports')).reports;
  }

  /** Operators only: every credential of the user ends at once and signing in is refused. */
  async suspendUser(userId: string, reason: string): Promise<void> {
    await this.#t.call('POST', `/v1/admin/users/${enc(userId)}/suspend`, { body: { reason } });
  }

  async unsuspendUser(userId: string): Promise<void> {
    await this.#t.call('DELETE', `/v1/admin/users/${enc(userId)}/suspend`);
  }
}
