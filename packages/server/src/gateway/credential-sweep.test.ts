// The periodic re-check: closes the sockets of credentials the store's journal says ended, reads
// one by one only those whose known expiry passed, and closes nothing when the store cannot answer.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { CredentialSweep, type LiveCredentials } from './credential-sweep.js';
import { Hub, type HubSession } from './hub.js';

function socket(userId: string, credentialId: string, credentialExpiresAt = Infinity) {
  const s = {
    sessionId: `${userId}:${credentialId}:${Math.random()}`,
    userId,
    credentialId,
    credentialExpiresAt,
    closed: null as number | null,
    sendFrame() {},
    close(code: number) {
      s.closed = code;
    },
  };
  return s satisfies HubSession;
}

/** The store's side: live credentials with their expiry, and a journal of ends; counts its reads. */
class FakeStore implements LiveCredentials {
  reads: string[][] = [];
  journalReads: string[] = [];
  ends: { id: string; at: number }[] = [];
  pruned: string[] = [];
  failing = false;
  clock = 1_000_000;
  constructor(readonly live: Map<string, number | null>) {}
  async liveCredentials(ids: string[], now: string): Promise<Map<string, string | null>> {
    if (this.failing) throw new Error('store down');
    this.reads.push(ids);
    const out = new Map<string, string | null>();
    for (const id of ids) {
      const exp = this.live.get(id);
      if (exp === null) out.set(id, null);
      else if (exp !== undefined && exp > Date.parse(now)) out.set(id, new Date(exp).toISOString());
    }
    return out;
  }
  async endedCredentials(since: string): Promise<{ ids: string[]; at: string }> {
    if (this.failing) throw new Error('store down');
    this.journalReads.push(since);
    const from = Date.parse(since);
    return { ids: this.ends.filter((e) => e.at > from).map((e) => e.id), at: new Date(this.clock).toISOString() };
  }
  async forgetEndedCredentials(before: string): Promise<void> {
    this.pruned.push(before);
  }
  end(id: string) {
    this.live.delete(id);
    this.ends.push({ id, at: this.clock });
  }
}

function setup(live: [string, number | null][], now = () => 1_000_000) {
  const hub = new Hub({ metrics: createMetrics() });
  const store = new FakeStore(new Map(live));
  const forgotten: string[] = [];
  const sweep = new CredentialSweep({
    hub,
    store,
    authenticator: { forget: (ids) => forgotten.push(...ids) },
    logger: createLogger('silent'),
    everyMs: 20,
    now,
  });
  return { hub, store, sweep, forgotten };
}

describe('CredentialSweep', () => {
  it('closes every socket of a credential the journal says ended, without reading the others', async () => {
    const { hub, store, sweep, forgotten } = setup([
      ['d_gone', null],
      ['d_live', null],
    ]);
    const a = socket('u1', 'd_gone');
    const b = socket('u1', 'd_gone');
    const c = socket('u1', 'd_live');
    for (const s of [a, b, c]) hub.add(s);
    await sweep.sweep();
    expect([a.closed, b.closed, c.closed]).toEqual([null, null, null]);
    store.clock += 3_000;
    store.end('d_gone');
    await sweep.sweep();
    expect([a.closed, b.closed, c.closed]).toEqual([4401, 4401, null]);
    expect(forgotten).toEqual(['d_gone']);
    expect(store.reads).toEqual([]);
  });

  it('reads each journal from the last reading less a margin, and forgets an end once', async () => {
    const { store, sweep, forgotten } = setup([['d_1', null]]);
    await sweep.sweep();
    store.end('d_1');
    store.clock += 3_000;
    await sweep.sweep();
    store.clock += 3_000;
    await sweep.sweep();
    expect(store.journalReads.slice(1)).toEqual([
      new Date(1_000_000 - 10_000).toISOString(),
      new Date(1_003_000 - 10_000).toISOString(),
    ]);
    expect(forgotten).toEqual(['d_1']);
  });

  it('closes a socket that joined after the read which first saw its end', async () => {
    const { hub, store, sweep } = setup([['d_1', null]]);
    store.end('d_1');
    await sweep.sweep();
    const late = socket('u1', 'd_1');
    hub.add(late);
    store.clock += 3_000;
    await sweep.sweep();
    expect(late.closed).toBe(4401);
  });

  it('re-reads only credentials whose known expiry passed, and keeps an extended one', async () => {
    let now = 1_000_000;
    const { hub, store, sweep } = setup(
      [
        ['d_expiring', 1_000_500],
        ['d_extended', 1_900_000],
        ['k_key', null],
      ],
      () => now,
    );
    const expiring = socket('u1', 'd_expiring', 1_000_500);
    const extended = socket('u2', 'd_extended', 1_000_500);
    const key = socket('u3', 'k_key');
    for (const s of [expiring, extended, key]) hub.add(s);
    await sweep.sweep();
    expect(store.reads).toEqual([]);
    now = 1_001_000;
    await sweep.sweep();
    expect(store.reads).toEqual([['d_expiring', 'd_extended']]);
    expect([expiring.closed, extended.closed, key.closed]).toEqual([4401, null, null]);
    hub.remove(expiring); // as a real session does once closed
    now = 1_002_000;
    await sweep.sweep();
    expect(store.reads).toHaveLength(1);
  });

  it('reads a thousand expired credentials at a time', async () => {
    let now = 0;
    const { hub, store, sweep } = setup([], () => now);
    for (let i = 0; i < 2_500; i++) hub.add(socket(`u${i}`, `d_${i}`, 10));
    now = 20;
    await sweep.sweep();
    expect(store.reads.map((r) => r.length)).toEqual([1000, 1000, 500]);
  });

  it('closes nothing while the store cannot answer', async () => {
    const { hub, store, sweep } = setup([]);
    const a = socket('u1', 'd_1', 0);
    hub.add(a);
    store.failing = true;
    await sweep.sweep();
    expect(a.closed).toBeNull();
  });

  it('prunes the journal now and then', async () => {
    const { store, sweep } = setup([]);
    for (let i = 0; i < 200; i++) await sweep.sweep();
    expect(store.pruned).toEqual([
      new Date(1_000_000 - 3_600_000).toISOString(),
      new Date(1_000_000 - 3_600_000).toISOString(),
    ]);
  });

  it('runs on its own every round until stopped', async () => {
    const { hub, store, sweep } = setup([['d_1', null]], Date.now);
    store.clock = Date.now();
    const a = socket('u1', 'd_1');
    hub.add(a);
    sweep.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(a.closed).toBeNull();
    store.end('d_1');
    await new Promise((r) => setTimeout(r, 100));
    await sweep.stop();
    expect(a.closed).toBe(4401);
  });
});
