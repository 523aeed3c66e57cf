// Cluster reads are eventually consistent: the persister writes the store a moment after the log
// acknowledged the write. The in-process test cluster registers a barrier per gateway URL here, and
// the clients (http(), RawSocket.request) wait on it before reading, so a request sees every write
// acknowledged before it, as the embedded store gives at once. Any other URL has no barrier.

/** Per gateway URL: resolves once the persister has written everything logged so far, saying whether it did. */
export const caughtUp = new Map<string, () => Promise<boolean>>();

/** Waits until the store of `baseUrl`'s test cluster has caught up with the log; at once for any other server. */
export async function storeCaughtUp(baseUrl: string): Promise<void> {
  await caughtUp.get(baseUrl)?.();
}

/** Cluster mode: whether the persister caught up with the whole log within 10 s (a stuck record says no). */
export async function persisterCaughtUp(baseUrl: string): Promise<boolean> {
  const barrier = caughtUp.get(baseUrl);
  if (!barrier) throw new Error(`${baseUrl} is not a cluster test deployment`);
  return barrier();
}
