// The reports table's row, the same columns in SQLite and PostgreSQL; only how the reported
// message and the time arrive differs (JSON text and ISO text in SQLite, jsonb and Date in PostgreSQL).
import type { Message, Report } from '@messenger/protocol';

export interface ReportRow<Json, Time> {
  id: string;
  reporter_id: string;
  conversation_id: string;
  message_id: string | null;
  user_id: string | null;
  reason: string;
  message: Json | null;
  created_at: Time;
}

/** Every column, in the order of reportValues. */
export const REPORT_COLUMNS = 'id, reporter_id, conversation_id, message_id, user_id, reason, message, created_at';

export function reportValues(r: Report): unknown[] {
  return [
    r.id,
    r.reporterId,
    r.conversationId,
    r.messageId,
    r.userId,
    r.reason,
    r.message ? JSON.stringify(r.message) : null,
    r.createdAt,
  ];
}

export function reportFromRow<Json, Time>(
  row: ReportRow<Json, Time>,
  decode: { message(m: Json): Message; iso(t: Time): string },
): Report {
  return {
    id: row.id,
    reporterId: row.reporter_id,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    userId: row.user_id,
    reason: row.reason,
    message: row.message ? decode.message(row.message) : null,
    createdAt: decode.iso(row.created_at),
  };
}
