// The caller's own account (v1.1): editing the profile, leaving for good, and taking one's data along.
import { z } from 'zod';
import type { ApiKeyInfo, DeviceSession } from './accounts.js';
import { LIMITS } from './limits.js';
import type { Conversation, Message, User } from './objects.js';

/** What everyone else sees of an account that was deleted. */
export const DELETED_DISPLAY_NAME = 'Deleted account';

const nulFree = (text: string) => !text.includes('\u0000');

export const updateProfileBody = z
  .object({
    displayName: z
      .string()
      .trim()
      .min(1)
      .max(LIMITS.maxDisplayNameChars)
      .refine(nulFree, { message: 'must not contain NUL (U+0000) characters' })
      .optional(),
    /** An image the caller uploaded (POST /v1/uploads), or `null` for no avatar. */
    avatarUploadId: z.string().min(1).max(64).nullable().optional(),
  })
  .strict();

export const deleteAccountBody = z
  .object({
    /** Required when the account has a password. */
    password: z.string().min(1).max(256).optional(),
    /** Every message the user sent is deleted for everyone too. */
    deleteMessages: z.boolean().optional(),
  })
  .strict();

export type UpdateProfileBody = z.infer<typeof updateProfileBody>;
export type DeleteAccountBody = z.infer<typeof deleteAccountBody>;

/** `GET /v1/me/export`: no token, key or password hash is ever in it. */
export interface AccountExport {
  exportedAt: string;
  user: User;
  sessions: DeviceSession[];
  apiKeys: ApiKeyInfo[];
  /** As the caller sees them, with their members; message requests included. */
  conversations: Conversation[];
  /** Every message the caller sent that is not deleted, oldest conversation first, by seq. */
  messages: Message[];
}
