// Safety rules of groups and requests. Pure functions, no I/O.
import type { Member } from '@messenger/protocol';
import { forbidden } from './errors.js';

interface Standing {
  role: 'admin' | 'member';
  request: 'accepted' | 'pending' | 'declined';
}

/** Admins only: renaming, settings, roles and removing members. */
export function checkAdmin(member: Standing, action: string): void {
  if (member.role !== 'admin') throw forbidden(`only a group admin can ${action}`);
}

/** With membersCanAdd off only admins add members. */
export function checkCanAdd(member: Standing, membersCanAdd: boolean): void {
  if (!membersCanAdd && member.role !== 'admin') throw forbidden('only a group admin can add members to this group');
}

/**
 * Receipts, typing and presence of a member reach the others only once the member accepted the
 * chat: until then the sender of a request cannot tell whether it was seen.
 */
export function signalsShown(member: Standing): boolean {
  return member.request === 'accepted';
}

/** A new message pushes a notification to a member who accepted the chat and did not mute it. */
export function notifies(member: Standing & { muted: boolean }): boolean {
  return member.request === 'accepted' && !member.muted;
}

/**
 * The member who becomes admin when the last admin leaves: the longest-standing one (`members` in
 * join order, as conversation views list them); null when an admin remains or nobody does.
 */
export function successor(members: Pick<Member, 'userId' | 'role'>[]): string | null {
  if (members.some((m) => m.role === 'admin')) return null;
  return members[0]?.userId ?? null;
}
