// The gateway writes prebuilt frames instead of calling ws.send: the bytes must be exactly what ws
// itself would have put on the wire, at every payload-length boundary of RFC 6455 §5.2.
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { authFrame } from '@messenger/protocol';
import { authTokenOf, CorkBatch, eventFrame, textFrame } from './frames.js';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}
// ws exports its frame encoder at run time; @types/ws does not declare it.
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

const wsFrame = (text: string): Buffer => {
  const data = Buffer.from(text);
  return Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
};

describe('textFrame', () => {
  it.each([0, 1, 125, 126, 127, 65535, 65536, 70000])('matches ws for a %i-byte payload', (n) => {
    const text = 'x'.repeat(n);
    expect(textFrame(text).equals(wsFrame(text))).toBe(true);
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    const text = 'é€😀'.repeat(30); // 9 bytes per repeat: 270 bytes, 120 UTF-16 units
    expect(textFrame(text).equals(wsFrame(text))).toBe(true);
  });
});

describe('eventFrame', () => {
  it.each([0, 100, 65_000, 70_000])(
    'is the frame of {"type":"event","event":...} built from the JSON bytes (body of %i characters)',
    (n) => {
      const event = { type: 'typing', conversationId: 'c_1', userId: `u_${'é'.repeat(n)}` };
      const json = new TextEncoder().encode(JSON.stringify(event));
      expect(eventFrame(json).equals(wsFrame(JSON.stringify({ type: 'event', event })))).toBe(true);
    },
  );
});

describe('CorkBatch', () => {
  it('uncorks every target added in one turn, once, in the next check phase', async () => {
    const batch = new CorkBatch();
    const calls: string[] = [];
    batch.add({ uncork: () => calls.push('a') });
    batch.add({ uncork: () => calls.push('b') });
    expect(calls).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['a', 'b']);
    batch.add({ uncork: () => calls.push('c') });
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['a', 'b', 'c']);
  });
});

describe('authTokenOf', () => {
  it('accepts and refuses exactly what the protocol schema does', () => {
    const frames: unknown[] = [
      { type: 'auth', token: 'k_1' },
      { type: 'auth', token: 'x'.repeat(256), extra: 1 },
      { type: 'auth', token: 'x'.repeat(257) },
      { type: 'auth', token: '' },
      { type: 'auth', token: 7 },
      { type: 'auth' },
      { type: 'ping', token: 'k_1' },
      ['auth', 'k_1'],
      Object.assign(['x'], { type: 'auth', token: 'k_1' }),
      'auth',
      null,
      undefined,
    ];
    for (const frame of frames) {
      const parsed = authFrame.safeParse(frame);
      expect(authTokenOf(frame)).toBe(parsed.success ? parsed.data.token : null);
    }
  });
});
