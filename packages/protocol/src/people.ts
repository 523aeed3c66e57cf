// Finding people (v1.1): the people search, the `discoverable` setting, and who the caller is.
import { z } from 'zod';
import type { User } from './objects.js';

export const PEOPLE_LIMITS = {
  maxPeopleSearchLimit: 20,
  defaultPeopleSearchLimit: 10,
  maxPeopleQueryChars: 64,
} as const;

export const peopleSearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1)
    .max(PEOPLE_LIMITS.maxPeopleQueryChars)
    .refine((text) => !text.includes('\u0000'), { message: 'must not contain NUL (U+0000) characters' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().min(1).max(PEOPLE_LIMITS.maxPeopleSearchLimit))
    .optional(),
});

/** Either setting or both; an absent one keeps its value. */
export const meSettingsBody = z
  .object({ presenceVisible: z.boolean().optional(), discoverable: z.boolean().optional() })
  .refine((b) => b.presenceVisible !== undefined || b.discoverable !== undefined, {
    message: 'give presenceVisible, discoverable or both',
  });

export type MeSettingsBody = z.infer<typeof meSettingsBody>;

export interface PeopleSearchResponse {
  users: User[];
}

/** `GET /v1/me`: `operator` is true for the users named in the server's ADMIN_USERNAMES. */
export interface MeResponse {
  user: User;
  operator: boolean;
}

export interface MeSettingsResponse {
  settings: MeSettingsBody;
}
