// Deleting an account midway: a failure before its last step leaves the account signed in, and
// the retry finishes; the steps already done are not repeated wrongly (each is idempotent).
import type { Conversation, Message, User } from '@messenger/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryAttemptLimiter } from '../../adapters/memory/attempt-limiter.js';
import { MemoryRevocations } from '../../adapters/memory/revocations.js';
import type { LogDraft } from '../log-entries.js';
import type { AccountStore } from './account-store.js';
import { Profiles } from './profiles.js';

const ann: User = {
  id: 'u_ann',
  username: 'ann',
  displayName: 'Ann',
  createdAt: '2026-01-01T00:00:00.000Z',
  avatarUrl: null,
};
const message = (id: string, conversationId: string): Message => ({
  id,
  conversationId,
  seq: 1,
  senderId: ann.id,
  clientMsgId: `c_${id}`,
  body: 'text',
  createdAt: ann.createdAt,
  editedAt: null,
  deletedAt: null,
  replyToId: null,
  reactions: [],
  attachments: [],
});
const chat = (id: string, kind: 'direct' | 'group'): Conversation =>
  ({ id, kind, members: [{ userId: ann.id }, { userId: 'u_bob' }] }) as unknown as Conversation;

/** What the account looks like in the store: its messages, groups, credentials; one step may fail once. */
function world(failOnce: 'close' | 'leave' | null) {
  const state = {
    messages: [message('m1', 'c_direct'), message('m2', 'c_group')],
    groups: new Set(['c_group']),
    credentials: new Set(['d_1', 'k_1']),
    closed: false,
    appended: [] as LogDraft[],
    told: [] as { userIds: string[]; type: string }[],
  };
  let failing = failOnce;
  const accountStore: AccountStore = {
    setDisplayName: async () => ann,
    setAvatar: async () => ({ user: ann, previous: null }),
    closeAccount: async () => {
      if (failing === 'close') {
        failing = null;
        throw new Error('database went away');
      }
      const ended = [...state.credentials];
      state.credentials.clear();
      state.closed = true;
      return ended;
    },
    sentMessages: async (_sender, after, limit) =>
      state.messages.filter((m) => after === null || m.clientMsgId > after).slice(0, limit),
    liveCredentials: async (ids) => new Map(ids.filter((id) => state.credentials.has(id)).map((id) => [id, null])),
    endedCredentials: async () => ({ ids: [], at: new Date().toISOString() }),
    forgetEndedCredentials: async () => undefined,
  };
  const revocations = new MemoryRevocations();
  const profiles = new Profiles({
    accountStore,
    userStore: {
      usersByIds: async () => [{ ...ann, displayName: state.closed ? 'Deleted account' : ann.displayName }],
    },
    credentials: { passwordHash: async () => null },
    accounts: { sessions: async () => [], apiKeys: async () => [] },
    authenticator: { forget: () => undefined },
    attempts: new MemoryAttemptLimiter(),
    revocations,
    conversationStore: {
      conversations: async (_viewer, _limit, _cursor, requests) => ({
        conversations: requests
          ? []
          : [chat('c_direct', 'direct'), ...[...state.groups].map((id) => chat(id, 'group'))],
        nextCursor: null,
      }),
    },
    conversations: {
      leave: async (conversationId) => {
        if (failing === 'leave') {
          failing = null;
          throw new Error('log unavailable');
        }
        state.groups.delete(conversationId);
      },
    },
    pushSubscriptions: { forUsers: async () => [], remove: async () => true },
    log: {
      append: async (draft) => {
        state.appended.push(draft);
        // The log's commit writes the store: a deleted message is no longer among those sent.
        if (draft.type === 'message.deleted') state.messages = state.messages.filter((m) => m.id !== draft.messageId);
        return { duplicate: false, record: { ...draft, pos: state.appended.length } };
      },
    },
    deliverer: {
      deliver: async (userIds, event) => {
        state.told.push({ userIds, type: event.type });
        return 1;
      },
    },
  });
  const caller = { user: ann, kind: 'session' as const, credentialId: 'd_1', expiresAt: Infinity };
  return { state, profiles, caller };
}

describe('Profiles.delete', () => {
  for (const step of ['close', 'leave'] as const) {
    it(`a failure at the ${step} step leaves the account signed in; the retry completes`, async () => {
      const { state, profiles, caller } = world(step);
      await expect(profiles.delete(caller, { deleteMessages: true })).rejects.toThrow();
      expect(state.closed).toBe(false);
      expect(state.credentials).toEqual(new Set(['d_1', 'k_1']));
      await profiles.delete(caller, { deleteMessages: true });
      expect(state.closed).toBe(true);
      expect(state.credentials.size).toBe(0);
      expect(state.groups.size).toBe(0);
      expect(state.messages).toEqual([]);
      // Each message was deleted for everyone exactly once across both attempts.
      const deleted = state.appended.filter((d) => d.type === 'message.deleted').map((d) => d.messageId);
      expect(deleted.sort()).toEqual(['m1', 'm2']);
      expect(state.told).toEqual([{ userIds: ['u_bob'], type: 'user.updated' }]);
    });
  }
});
