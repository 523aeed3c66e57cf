// What every store contract suite shares: a fresh store over an empty database, and a small world
// in it (three users, a direct chat between two of them, a way to send) built through the ports.
import type { Message } from '@messenger/protocol';
import { closeAfterEach } from './close-after-each.contract.js';
import type { ConversationStore } from './conversations/conversation-store.js';
import type { MemberStanding } from './conversations/member-standing.js';
import type { LogDraft, LogRecord } from './log-entries.js';
import type { MessageSearch } from './messages/message-search.js';
import type { MessageStore } from './messages/message-store.js';
import type { UploadStore } from './media/upload-store.js';
import type { RecordSink } from './messages/record-sink.js';
import type { PresenceVisibility } from './presence/presence-visibility.js';
import type { BlockStore } from './safety/block-store.js';
import type { ReportStore } from './safety/report-store.js';
import type { SuspensionStore } from './safety/suspension-store.js';
import type { PeopleDirectory } from './users/people-directory.js';
import type { UserStore } from './users/user-store.js';

/** Every store port of one backend, over the same database. */
export interface StoreParts {
  users: UserStore & PresenceVisibility;
  conversations: ConversationStore & MemberStanding;
  messages: MessageStore;
  search: MessageSearch;
  records: RecordSink;
  uploads: UploadStore;
  people: PeopleDirectory;
  blocks: BlockStore;
  suspensions: SuspensionStore;
  reports: ReportStore;
  close(): Promise<void>;
}

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<StoreParts>;
}

let pos = 0;
let unique = 0;
export const record = (draft: LogDraft): LogRecord => ({ ...draft, pos: ++pos }) as LogRecord;
export const now = () => new Date().toISOString();

export function message(conversationId: string, senderId: string, seq: number, body: string): Message {
  unique += 1;
  return {
    id: `m_${unique}_${seq}`,
    conversationId,
    seq,
    senderId,
    clientMsgId: `cm_${unique}`,
    body,
    createdAt: new Date(Date.now() + seq).toISOString(),
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
  };
}

/** Call inside a describe: each world's store is closed after its test. */
export function storeWorlds(harness: StoreHarness) {
  const closing = closeAfterEach();
  return async () => world(closing(await harness.open()));
}

let groups = 0;

/** A chat made through the store's ConversationStore; a direct chat's key is its two ids, sorted. */
export async function createChat(
  store: Pick<StoreParts, 'conversations'>,
  id: string,
  kind: 'direct' | 'group',
  memberIds: string[],
  title: string | null = null,
): Promise<string> {
  const directKey = kind === 'direct' ? [...memberIds].sort().join(':') : null;
  await store.conversations.createConversation({ id, kind, title, createdAt: now(), memberIds, directKey });
  return id;
}

/** Three users in `store`, a direct chat between alice and bob, and ways to send and to make a group. */
export async function world(store: StoreParts) {
  const tag = Math.random().toString(36).slice(2, 8);
  const mk = (n: string) =>
    store.users.createUser({
      id: `u_${n}_${tag}`,
      username: `${n}_${tag}`,
      displayName: n.toUpperCase(),
      createdAt: now(),
      apiKeyHash: `hash_${n}_${tag}`,
    });
  const [alice, bob, carol] = await Promise.all([mk('alice'), mk('bob'), mk('carol')]);
  const conv = await createChat(store, `c_${tag}`, 'direct', [alice.id, bob.id]);
  let seq = 0;
  const send = async (senderId: string, body: string, conversationId = conv) => {
    const m = message(conversationId, senderId, ++seq, body);
    await store.records.apply([record({ type: 'message.created', conversationId, message: m })]);
    return m;
  };
  /** A group of `memberIds`, none of them an admin or pending. */
  const group = (title: string, memberIds: string[]) =>
    createChat(store, `g_${tag}_${++groups}`, 'group', memberIds, title);
  return { store, alice, bob, carol, conv, send, group, tag };
}
