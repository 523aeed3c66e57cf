// In-process revocations: the embedded default, a direct call to this process's gateway.
import type { RevocationHandler, Revocations } from '../../core/users/revocations.js';

export class MemoryRevocations implements Revocations {
  private readonly handlers = new Set<RevocationHandler>();

  async publish(credentialIds: string[]): Promise<void> {
    if (credentialIds.length === 0) return;
    for (const handler of this.handlers) handler(credentialIds);
  }

  async subscribe(handler: RevocationHandler): Promise<{ stop(): Promise<void> }> {
    this.handlers.add(handler);
    return { stop: async () => void this.handlers.delete(handler) };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
