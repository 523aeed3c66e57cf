import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../log-entries.js';
import { coalesce } from './coalesce.js';

const record = (conversationId: string, pos: number): LogRecord => ({
  type: 'receipt.read',
  conversationId,
  userId: 'u',
  seq: pos,
  pos,
});
const names = (records: LogRecord[]) => records.map((r) => `${r.conversationId}${r.pos}`);

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('coalesce', () => {
  it('runs a lone batch at once, as it came', async () => {
    const calls: string[][] = [];
    const handle = coalesce((records) => void calls.push(names(records)));
    await handle([record('a', 1), record('a', 2)]);
    await handle([record('b', 1)]);
    expect(calls).toEqual([['a1', 'a2'], ['b1']]);
  });

  it('never overlaps calls, and merges the batches that arrived meanwhile into one call, in arrival order', async () => {
    const calls: string[][] = [];
    let inside = 0;
    let first = gate();
    const handle = coalesce(async (records) => {
      inside += 1;
      expect(inside).toBe(1);
      calls.push(names(records));
      await first.opened;
      inside -= 1;
    });
    const a = handle([record('a', 1)]);
    const b = handle([record('b', 1), record('b', 2)]);
    const c = handle([record('c', 1)]);
    expect(calls).toEqual([['a1']]);
    const blocked = first;
    first = gate();
    blocked.open();
    await a;
    first.open();
    await Promise.all([b, c]);
    expect(calls).toEqual([['a1'], ['b1', 'b2', 'c1']]);
  });

  it('fails every batch of a failed call, and goes on with the next ones', async () => {
    let fail = true;
    const seen: string[][] = [];
    const hold = gate();
    const handle = coalesce(async (records) => {
      seen.push(names(records));
      await hold.opened;
      if (fail && records.some((r) => r.conversationId === 'b')) throw new Error('store down');
    });
    const a = handle([record('a', 1)]);
    const b = handle([record('b', 1)]);
    const c = handle([record('c', 1)]);
    hold.open();
    await a;
    await expect(b).rejects.toThrow('store down');
    await expect(c).rejects.toThrow('store down');
    fail = false;
    await handle([record('b', 1)]);
    expect(seen).toEqual([['a1'], ['b1', 'c1'], ['b1']]);
  });

  it('turns a handler that throws synchronously into a rejection', async () => {
    const handle = coalesce(() => {
      throw new Error('bad');
    });
    await expect(handle([record('a', 1)])).rejects.toThrow('bad');
    await expect(handle([record('a', 2)])).rejects.toThrow('bad');
  });
});
