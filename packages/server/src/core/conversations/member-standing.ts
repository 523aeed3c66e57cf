// MemberStanding: what the safety rules change about a membership and a group: whether the member
// accepted the chat (a message request until then), its role, and the group's own settings.
// Written directly; the caller then appends conversation.updated so that fan-out follows.
export type RequestState = 'accepted' | 'pending' | 'declined';

export interface MemberStanding {
  /** No-op for a user who is not a member. */
  setRequestState(conversationId: string, userId: string, state: RequestState): Promise<void>;
  setRole(conversationId: string, userId: string, role: 'admin' | 'member'): Promise<void>;
  /** Only the fields given change. */
  updateGroup(
    conversationId: string,
    changes: { title?: string; membersCanAdd?: boolean; avatarUploadId?: string | null },
  ): Promise<void>;
}
