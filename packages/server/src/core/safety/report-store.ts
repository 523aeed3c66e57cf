// ReportStore: reports users file about a conversation, a message or a user, for the operators.
// A report keeps its own copy of the reported message: a later edit or delete does not change it.
import type { Report } from '@messenger/protocol';

export interface ReportStore {
  /** Durable once resolved. */
  createReport(report: Report): Promise<void>;
  /** Newest first. */
  reports(limit: number): Promise<Report[]>;
}
