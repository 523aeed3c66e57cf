// PushSubscriptions: the Web Push endpoints each user's browsers registered, and the badge count
// the notifier puts in a push. Kept apart from Store: only the push routes and the notifier use it.

export interface PushSubscriptionRecord {
  userId: string;
  /** The push service URL; unique: one browser subscription belongs to one user at a time. */
  endpoint: string;
  /** The browser's P-256 public key (65 bytes uncompressed, base64url). */
  p256dh: string;
  /** The browser's 16-byte auth secret (base64url). */
  auth: string;
  createdAt: string;
}

export interface PushSubscriptions {
  /**
   * Upserts by endpoint, durably. Saving an endpoint another user held moves it to `userId` (the
   * browser now belongs to whoever subscribed last) and refreshes its keys and createdAt.
   */
  save(subscription: PushSubscriptionRecord): Promise<void>;
  /** The user's own endpoint only; false when there was none. Idempotent. */
  remove(userId: string, endpoint: string): Promise<boolean>;
  /** Whoever holds it: the push service said the endpoint is gone (404/410). Idempotent. */
  removeEndpoint(endpoint: string): Promise<void>;
  /** Every subscription of these users, oldest first per user. */
  forUsers(userIds: string[]): Promise<PushSubscriptionRecord[]>;
  /**
   * The user's unread messages over all their conversations, as the chat list counts them (the
   * sum of every conversation's unreadCount), for the app badge. Reads the store's current state.
   */
  unreadTotal(userId: string): Promise<number>;
  close(): Promise<void>;
}
