// Revocations: tells every gateway that some credentials (sessions, API keys) no longer hold, so it
// forgets them from its cache and closes their sockets. At most once, like the gateway bus: a
// gateway that misses one still stops trusting the credential when its cache entry ages out, and
// a gateway that lost its bus connection has every socket reconnect (and authenticate again).

export type RevocationHandler = (credentialIds: string[]) => void;

export interface Revocations {
  /** Reaches every subscriber, in this process too, usually within milliseconds. */
  publish(credentialIds: string[]): Promise<void>;
  /** Registered once the promise resolves: revocations published after that reach `handler`. */
  subscribe(handler: RevocationHandler): Promise<{ stop(): Promise<void> }>;
  close(): Promise<void>;
}
