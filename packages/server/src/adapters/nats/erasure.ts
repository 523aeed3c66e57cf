// Erasure of a message's text from its partition stream: the message.created record (its stream
// sequence is the message's seq) and every message.updated record of it (found by reading the
// conversation's subject from that seq on). JetStream overwrites an erased message's bytes.
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { LogDraft } from '../../core/log-entries.js';
import type { Logger } from '../../observability/logger.js';

export interface ErasureDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  /** Bound on the whole scan of one conversation. */
  timeoutMs: number;
  /** Streams made with deny_delete (by an older version) refuse: each is warned about once, then skipped. */
  refusedStreams: Set<string>;
}

/**
 * Erases the records that carry the text of `messages` (ids and seqs of one conversation, whose
 * records are on `subject` of `stream`). Idempotent: a record already gone is skipped. Rejects when
 * JetStream does not answer, so the caller can retry.
 */
export async function eraseMessages(
  deps: ErasureDeps,
  stream: string,
  subject: string,
  messages: { id: string; seq: number }[],
): Promise<void> {
  if (messages.length === 0 || deps.refusedStreams.has(stream)) return;
  const ids = new Set(messages.map((m) => m.id));
  const doomed = new Set(messages.map((m) => m.seq));
  for (const seq of await editsOf(deps, stream, subject, ids, Math.min(...doomed))) doomed.add(seq);
  for (const seq of [...doomed].sort((a, b) => a - b)) {
    try {
      await deps.jsm.streams.deleteMessage(stream, seq, true);
    } catch (error) {
      // Gone already (erased by an earlier try, or aged out): JetStream answers "no message found".
      if (
        error instanceof JetStreamApiError &&
        (error.code === JetStreamApiCodes.NoMessageFound || /no message found/u.test(error.message))
      )
        continue;
      if (error instanceof Error && /not permitted/u.test(error.message)) {
        deps.refusedStreams.add(stream);
        deps.logger.warn(
          { stream },
          'this log stream denies deletes (made by an older version): deleted text stays in it until its max age',
        );
        return;
      }
      throw error;
    }
  }
}

/** Stream sequences of the message.updated records of `ids` on `subject`, from `from` to the subject's last record. */
async function editsOf(
  deps: ErasureDeps,
  stream: string,
  subject: string,
  ids: Set<string>,
  from: number,
): Promise<number[]> {
  const last = await deps.jsm.streams.getMessage(stream, { last_by_subj: subject }).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
    throw error;
  });
  if (!last || last.seq <= from) return [];
  const consumer = await deps.js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from + 1,
  });
  const found: number[] = [];
  const messages = await consumer.consume({ max_messages: 256 });
  const timer = setTimeout(() => void messages.close(), deps.timeoutMs);
  let reached = false;
  try {
    for await (const m of messages) {
      const draft = parsed(m.json.bind(m));
      if (draft?.type === 'message.updated' && ids.has(draft.messageId)) found.push(m.seq);
      if (m.seq >= last.seq) {
        reached = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    void messages.close();
  }
  // A long history after the message may take longer than the bound: the edits found are erased
  // anyway rather than failing the persister's batch for ever on it.
  if (!reached)
    deps.logger.warn(
      { stream, subject, from, to: last.seq },
      'the scan for edits timed out; later edits may stay in the log',
    );
  return found;
}

function parsed(json: <T>() => T): LogDraft | null {
  try {
    return json<LogDraft>();
  } catch {
    return null;
  }
}
