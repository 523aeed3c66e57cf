// Safety (v1.1): message requests, blocks, group roles, reports and operators: bodies and answers.
import { z } from 'zod';
import { id } from './http.js';
import type { Conversation, Message, User } from './objects.js';

export const SAFETY_LIMITS = {
  maxReportReasonChars: 1000,
  maxSuspendReasonChars: 1000,
} as const;

const nulFree = (text: string) => !text.includes('\u0000');
const NUL_MESSAGE = { message: 'must not contain NUL (U+0000) characters' };
const reasonText = (max: number) => z.string().trim().min(1).max(max).refine(nulFree, NUL_MESSAGE);

export type MemberRole = 'admin' | 'member';

/** `avatarUploadId`: an image the admin uploaded (POST /v1/uploads), or `null` for none. */
export const updateConversationBody = z
  .object({
    title: z.string().trim().min(1).max(128).refine(nulFree, NUL_MESSAGE).optional(),
    avatarUploadId: id.nullable().optional(),
    membersCanAdd: z.boolean().optional(),
  })
  .strict();

export const memberRoleBody = z.object({ role: z.enum(['admin', 'member']) });

export const createReportBody = z.object({
  conversationId: id,
  messageId: id.optional(),
  userId: id.optional(),
  reason: reasonText(SAFETY_LIMITS.maxReportReasonChars),
});

export const suspendBody = z.object({ reason: reasonText(SAFETY_LIMITS.maxSuspendReasonChars) });

export type UpdateConversationBody = z.infer<typeof updateConversationBody>;
export type CreateReportBody = z.infer<typeof createReportBody>;

/** A report as the operator reads it: `message` is the reported message as it was when reported. */
export interface Report {
  id: string;
  reporterId: string;
  conversationId: string;
  messageId: string | null;
  userId: string | null;
  reason: string;
  message: Message | null;
  createdAt: string;
}

export interface ReportResponse {
  report: Report;
}
export interface ReportsResponse {
  reports: Report[];
}
export interface BlockedUsersResponse {
  users: User[];
}
export interface RequestsResponse {
  conversations: Conversation[];
  nextCursor: string | null;
}
