// PresenceVisibility: who chose to hide their presence, a durable per-user setting that the presence
// service checks before it announces anyone (unlike presence itself, which is ephemeral).
export interface PresenceVisibility {
  /** Durable once resolved; every later hiddenPresence sees it. */
  setPresenceVisible(userId: string, visible: boolean): Promise<void>;
  /** Users whose presence is hidden, among `ids`. */
  hiddenPresence(ids: string[]): Promise<Set<string>>;
}
