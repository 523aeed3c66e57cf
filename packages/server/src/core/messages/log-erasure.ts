// LogErasure: a deleted message's text must not outlive it in a log that keeps its records after
// the store applied them (a cluster's JetStream). Once the store holds the tombstone, the log's
// copies (the creation and every edit) are erased. The persister calls it after applying a
// delete-for-everyone; account deletion calls it for every message it deletes.
import type { EventLog } from './event-log.js';
import type { MessageStore } from './message-store.js';

export class LogErasure {
  private readonly log: Pick<EventLog, 'erase'>;
  private readonly messageStore: Pick<MessageStore, 'message'>;

  constructor(deps: { log: Pick<EventLog, 'erase'>; messageStore: Pick<MessageStore, 'message'> }) {
    this.log = deps.log;
    this.messageStore = deps.messageStore;
  }

  /**
   * Erases from the log the text of these messages of one conversation; ids the store does not
   * know are skipped. Call it once the store applied their deletion. Idempotent; rejects with
   * AppError('unavailable') when the log does not answer (retry).
   */
  async eraseMessages(conversationId: string, messageIds: string[]): Promise<void> {
    if (!this.log.erase || messageIds.length === 0) return;
    const found = await Promise.all(messageIds.map((id) => this.messageStore.message(conversationId, id)));
    const messages = found.flatMap((m) => (m ? [{ id: m.id, seq: m.seq }] : []));
    await this.log.erase(conversationId, messages);
  }
}
