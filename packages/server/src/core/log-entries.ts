// The one catalog of entries written to the event log. Every consumer (persister, fan-out, notifier)
// reads these; the log assigns `pos` (and, for message.created, the message's seq).
import type { Conversation, LinkPreview, Message } from '@messenger/protocol';

/** The W3C traceparent of the request that wrote an entry, when tracing is on (observability/tracing.ts). */
interface Traced {
  trace?: string;
}

export type LogDraft = Traced &
  /** `message.seq` is 0 in a draft; the log assigns it. */
  (
    | { type: 'message.created'; conversationId: string; message: Message }
    /**
     * `message` is the edited message as the editor saw it, for fan-out; the persister writes body
     * and editedAt. With `linkPreview` it is the server adding a preview: only that is written (body
     * and editedAt are the message's as read then, and an edit since keeps its text); with
     * `linkPreview: null` it is the sender removing the preview.
     */
    | {
        type: 'message.updated';
        conversationId: string;
        messageId: string;
        body: string;
        editedAt: string | null;
        message: Message;
        linkPreview?: LinkPreview | null;
      }
    | {
        type: 'message.deleted';
        conversationId: string;
        messageId: string;
        for: 'everyone' | 'me';
        userId: string;
        at: string;
      }
    | { type: 'reaction.updated'; conversationId: string; messageId: string; userId: string; emoji: string | null }
    /** `ownOnly`: a member who has not accepted the chat; only their own devices hear of it. */
    | { type: 'receipt.read'; conversationId: string; userId: string; seq: number; ownOnly?: boolean }
    | { type: 'receipt.delivered'; conversationId: string; userId: string; seq: number; ownOnly?: boolean }
    /**
     * Membership, roles, settings or a request's state changed; the store has already been written,
     * this entry only orders fan-out. `removedUserIds` were removed by an admin: told once, then no more.
     * `created`: the entry of a new chat (not too big) carries it as its creator sees it and who
     * starts with it as a message request, so the fan-out need not read each member's view back.
     */
    | {
        type: 'conversation.updated';
        conversationId: string;
        userIds: string[];
        removedUserIds?: string[];
        created?: { conversation: Conversation; pending: string[] };
      }
  );

export type LogEntryType = LogDraft['type'];

/** A durable entry: its position in the log (increasing within a conversation) and its time. */
export type LogRecord = LogDraft & { pos: number };

/** The idempotency key of a send: the same sender's clientMsgId. */
export function dedupKey(draft: LogDraft): string | null {
  return draft.type === 'message.created' ? `${draft.message.senderId}:${draft.message.clientMsgId}` : null;
}
