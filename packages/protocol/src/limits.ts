// Limits shared by server and clients, so a client can refuse what the server would refuse.

export const LIMITS = {
  /** Any request body or WebSocket frame. */
  maxRequestBytes: 64 * 1024,
  /** A message text, in UTF-8 bytes. */
  maxMessageBytes: 4096,
  /** Uploads one message may carry. */
  maxAttachments: 10,
  usernamePattern: /^[a-z0-9_.]{3,32}$/,
  maxDisplayNameChars: 64,
  maxClientMsgIdChars: 128,
  maxIdChars: 64,
  maxTitleChars: 128,
  maxGroupMembers: 256,
  defaultHistoryLimit: 50,
  maxHistoryLimit: 200,
  defaultChatsLimit: 50,
  maxChatsLimit: 200,
  defaultSearchLimit: 20,
  maxSearchLimit: 100,
  maxSearchQueryChars: 256,
  /** Typing events per user per conversation. */
  typingIntervalMs: 2000,
  editWindowMs: 15 * 60 * 1000,
} as const;

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
