// The periodic re-check: closes the sockets of the credentials the store no longer holds, reads
// in batches, and closes nothing when the store cannot answer.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { CredentialSweep, type LiveCredentials } from './credential-sweep.js';
import { Hub, type HubSession } from './hub.js';

function socket(userId: string, credentialId: string) {
  const s = {
    sessionId: `${userId}:${credentialId}:${Math.random()}`,
    userId,
    credentialId,
    closed: null as number | null,
    sendFrame() {},
    close(code: number) {
      s.closed = code;
    },
  };
  return s satisfies HubSession;
}

/** The store's side, as a set of live credentials; counts its reads. */
class LiveSet implements LiveCredentials {
  reads: string[][] = [];
  failing = false;
  constructor(readonly live: Set<string>) {}
  async liveCredentials(ids: string[]): Promise<Set<string>> {
    if (this.failing) throw new Error('store down');
    this.reads.push(ids);
    return new Set(ids.filter((id) => this.live.has(id)));
  }
}

function setup(live: string[]) {
  const hub = new Hub({ metrics: createMetrics() });
  const store = new LiveSet(new Set(live));
  const forgotten: string[] = [];
  const sweep = new CredentialSweep({
    hub,
    store,
    authenticator: { forget: (ids) => forgotten.push(...ids) },
    logger: createLogger('silent'),
    everyMs: 20,
  });
  return { hub, store, sweep, forgotten };
}

describe('CredentialSweep', () => {
  it('closes every socket of an ended credential, once per distinct credential read', async () => {
    const { hub, store, sweep, forgotten } = setup(['d_live']);
    const a = socket('u1', 'd_gone');
    const b = socket('u1', 'd_gone');
    const c = socket('u1', 'd_live');
    for (const s of [a, b, c]) hub.add(s);
    await sweep.sweep();
    expect(store.reads).toEqual([['d_gone', 'd_live']]);
    expect([a.closed, b.closed, c.closed]).toEqual([4401, 4401, null]);
    expect(forgotten).toEqual(['d_gone']);
  });

  it('reads a thousand credentials at a time', async () => {
    const { hub, store, sweep } = setup([]);
    for (let i = 0; i < 2_500; i++) hub.add(socket(`u${i}`, `k_${i}`));
    await sweep.sweep();
    expect(store.reads.map((r) => r.length)).toEqual([1000, 1000, 500]);
  });

  it('closes nothing while the store cannot answer', async () => {
    const { hub, store, sweep } = setup([]);
    const a = socket('u1', 'd_1');
    hub.add(a);
    store.failing = true;
    await sweep.sweep();
    expect(a.closed).toBeNull();
  });

  it('runs on its own every round until stopped', async () => {
    const { hub, store, sweep } = setup(['d_1']);
    const a = socket('u1', 'd_1');
    hub.add(a);
    sweep.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(a.closed).toBeNull();
    store.live.delete('d_1');
    await new Promise((r) => setTimeout(r, 100));
    await sweep.stop();
    expect(a.closed).toBe(4401);
  });
});
