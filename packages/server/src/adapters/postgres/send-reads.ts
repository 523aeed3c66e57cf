// The two reads of every send in cluster mode, sharing one query per event-loop turn: the sender's
// membership (authorization) and the message stored under sender + clientMsgId (the log's lasting
// dedup, asked by the log before it publishes). A send asks one and then the other, so under load a
// turn carries the membership reads of the sends that just arrived together with the dedup reads of
// the sends checked a turn earlier: one statement instead of two.
import type { Message } from '@messenger/protocol';
import DataLoader from 'dataloader';
import type { Membership } from '../../core/store.js';
import { BATCHED_READS, type PgDb } from './pool.js';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.js';

type Ask = readonly ['member', conversationId: string, userId: string] | readonly ['original', senderId: string, clientMsgId: string];

type Row = MessageRow & {
  kind: 'member' | 'original';
  i: string;
  member_id: string | null;
  joined_seq: string | null;
  read_seq: string | null;
  delivered_seq: string | null;
  muted: boolean | null;
};

const SQL = `
  SELECT 'member' AS kind, q.i, mb.user_id AS member_id, mb.joined_seq, mb.read_seq, mb.delivered_seq, mb.muted,
         NULL::text AS conversation_id, NULL::bigint AS seq, NULL::text AS id, NULL::text AS sender_id,
         NULL::text AS client_msg_id, NULL::text AS body, NULL::timestamptz AS created_at, NULL::timestamptz AS edited_at,
         NULL::timestamptz AS deleted_at, NULL::text AS reply_to_id, NULL::json AS reactions
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(conversation_id, user_id, i)
    JOIN members mb ON mb.conversation_id = q.conversation_id AND mb.user_id = q.user_id
  UNION ALL
  SELECT 'original', q.i, NULL, NULL, NULL, NULL, NULL, ${MESSAGE_COLUMNS}
    FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS q(sender_id, client_msg_id, i)
    JOIN message_keys k ON k.sender_id = q.sender_id AND k.client_msg_id = q.client_msg_id
    JOIN messages m ON m.conversation_id = k.conversation_id AND m.seq = k.seq`;

export class SendReads {
  private readonly db: PgDb;

  constructor(db: PgDb) {
    this.db = db;
  }

  /** Read fresh each time: nothing is cached, only batched. */
  private readonly loader = new DataLoader<Ask, Membership | Message | null>(async (asks) => {
    const members = asks.flatMap((a, at) => (a[0] === 'member' ? [{ a, at }] : []));
    const originals = asks.flatMap((a, at) => (a[0] === 'original' ? [{ a, at }] : []));
    const rows = await this.db.query<Row>(
      SQL,
      [members.map((x) => x.a[1]), members.map((x) => x.a[2]), originals.map((x) => x.a[1]), originals.map((x) => x.a[2])],
      'messenger.send-reads',
    );
    const out: (Membership | Message | null)[] = asks.map(() => null);
    for (const row of rows) {
      const i = Number(row.i) - 1;
      if (row.kind === 'member') {
        out[members[i]!.at] = { userId: row.member_id!, joinedSeq: Number(row.joined_seq), readSeq: Number(row.read_seq), deliveredSeq: Number(row.delivered_seq), muted: row.muted! };
      } else {
        out[originals[i]!.at] = toMessage(row);
      }
    }
    return out;
  }, BATCHED_READS);

  async membership(conversationId: string, userId: string): Promise<Membership | null> {
    return (await this.loader.load(['member', conversationId, userId])) as Membership | null;
  }

  async original(senderId: string, clientMsgId: string): Promise<Message | null> {
    return (await this.loader.load(['original', senderId, clientMsgId])) as Message | null;
  }
}
