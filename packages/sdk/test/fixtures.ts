// Protocol objects for the SDK's tests: plain defaults for every field, and the fields a test
// cares about given. Ids default from the conversation and seq.
import type { Conversation, Message } from '@messenger/protocol';

export function aMessage(fields: Pick<Message, 'conversationId' | 'seq'> & Partial<Message>): Message {
  return {
    id: `${fields.conversationId}-${fields.seq}`,
    senderId: 'u2',
    clientMsgId: `c${fields.seq}`,
    body: 'x',
    createdAt: '',
    editedAt: null,
    deletedAt: null,
    replyToId: null,
    reactions: [],
    attachments: [],
    ...fields,
  };
}

export function aConversation(fields: Pick<Conversation, 'id'> & Partial<Conversation>): Conversation {
  return {
    kind: 'direct',
    title: null,
    members: [],
    createdAt: '',
    lastSeq: 0,
    lastMessage: null,
    unreadCount: 0,
    muted: false,
    request: false,
    membersCanAdd: true,
    avatarUrl: null,
    ...fields,
  };
}
