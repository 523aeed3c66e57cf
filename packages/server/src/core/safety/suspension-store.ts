// SuspensionStore: users an operator suspended. Authentication refuses their credentials (the
// credential stores read this table too) and signing in answers 403 while it holds.
export interface SuspensionStore {
  /** Idempotent: a second suspension keeps the first reason. */
  suspend(userId: string, reason: string, at: string): Promise<void>;
  /** False when the user was not suspended. */
  unsuspend(userId: string): Promise<boolean>;
  isSuspended(userId: string): Promise<boolean>;
}
