// MessageStore: reads of stored messages (single, by client id, history). Holds what the persister
// applied from the log, so in a cluster a read may lag the log; callers that must see their own
// writes wait for the persister first (storeCatchUp).
import type { Message } from '@messenger/protocol';

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

export interface MessageStore {
  /** Tombstones included (empty body, deletedAt set); null when the id is not in that conversation. */
  message(conversationId: string, messageId: string): Promise<Message | null>;
  /** The message a sender sent under `clientMsgId` (unique per sender): how a retried send is recognised. */
  messageByClientId(senderId: string, clientMsgId: string): Promise<Message | null>;
  /**
   * Ascending seq, only what `viewerId` may see (nothing before they joined, nothing they hid);
   * without afterSeq: the newest `limit` (below beforeSeq if set).
   */
  history(conversationId: string, viewerId: string, query: HistoryQuery): Promise<Message[]>;
}
