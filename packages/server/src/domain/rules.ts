// Permission and consistency rules of messaging. Pure functions, no I/O.
import { LIMITS, utf8Length, type Message } from '@messenger/protocol';
import { AppError, forbidden, invalid } from './errors.js';

/** `attachments`: how many files go with the text; with one or more, the text may be empty. */
export function checkMessageText(body: string, maxBytes: number = LIMITS.maxMessageBytes, attachments = 0): void {
  if (body.trim().length === 0 && attachments === 0) throw invalid('body must contain text');
  if (utf8Length(body) > maxBytes)
    throw new AppError('message_too_big', `message text is over ${maxBytes} UTF-8 bytes`);
}

export function checkCanEdit(message: Message, userId: string, now: number, windowMs: number): void {
  if (message.senderId !== userId) throw forbidden('only the sender can edit a message');
  if (message.deletedAt) throw forbidden('a deleted message cannot be edited');
  if (now - Date.parse(message.createdAt) > windowMs) throw forbidden('the edit window of this message has passed');
}

export function checkCanDeleteForEveryone(message: Message, userId: string): void {
  if (message.senderId !== userId) throw forbidden('only the sender can delete a message for everyone');
}

/** A read receipt never moves backwards and never points past the conversation's end. */
export function nextReceiptSeq(current: number, requested: number, lastSeq: number): number {
  return Math.max(current, Math.min(requested, lastSeq));
}

/** The message as members see it once it is deleted for everyone. */
export function tombstone(message: Message, deletedAt: string): Message {
  return { ...message, body: '', reactions: [], attachments: [], deletedAt };
}
