// The BlockStore contract: memory, SQLite and PostgreSQL run this suite unchanged. A harness gives
// the blocks and a way to make a direct chat or a group they can see (a SQL store's own tables).
import { describe, expect, it } from 'vitest';
import { closeAfterEach } from '../close-after-each.contract.js';
import { createChat, now, type StoreHarness, type StoreParts } from '../store-harness.contract.js';
import type { BlockStore } from './block-store.js';

export interface BlockHarness {
  open(): Promise<{
    blocks: BlockStore;
    chat(kind: 'direct' | 'group', memberIds: string[]): Promise<string>;
    close(): Promise<void>;
  }>;
}

let chats = 0;

/** The BlockStore of a whole store, its chats made through its ConversationStore. */
export function storeBlocks(harness: StoreHarness): BlockHarness {
  return {
    async open() {
      const store: StoreParts = await harness.open();
      return {
        blocks: store.blocks,
        chat: (kind, memberIds) =>
          createChat(
            store,
            `c_blk_${++chats}_${Math.random().toString(36).slice(2, 8)}`,
            kind,
            memberIds,
            kind === 'group' ? 'g' : null,
          ),
        close: () => store.close(),
      };
    },
  };
}

export function blockStoreContract(name: string, harness: BlockHarness): void {
  describe(`BlockStore contract: ${name}`, () => {
    const closing = closeAfterEach();
    const world = async () => {
      const s = closing(await harness.open());
      const tag = Math.random().toString(36).slice(2, 8);
      return { ...s, a: `u_a_${tag}`, b: `u_b_${tag}`, c: `u_c_${tag}` };
    };

    it('blocks once, lists the most recent first, and unblocks', async () => {
      const { blocks, a, b, c } = await world();
      await blocks.block(a, b, '2026-01-01T00:00:00.000Z');
      await blocks.block(a, c, '2026-01-02T00:00:00.000Z');
      await blocks.block(a, b, '2026-01-03T00:00:00.000Z');
      expect(await blocks.blockedBy(a)).toEqual([c, b]);
      expect(await blocks.blockedBy(b)).toEqual([]);
      await blocks.unblock(a, c);
      await blocks.unblock(a, c);
      expect(await blocks.blockedBy(a)).toEqual([b]);
    });

    it('finds a block whichever way it goes, among the users asked about only', async () => {
      const { blocks, a, b, c } = await world();
      await blocks.block(b, a, now());
      expect(await blocks.blockedEither(a, [b, c])).toEqual(new Set([b]));
      expect(await blocks.blockedEither(b, [a])).toEqual(new Set([a]));
      expect(await blocks.blockedEither(c, [a, b])).toEqual(new Set());
      expect(await blocks.blockedEither(a, [])).toEqual(new Set());
      // Asked at once (a store may answer them in one query), each ask gets its own answer.
      await blocks.block(c, b, now());
      expect(
        await Promise.all([
          blocks.blockedEither(a, [b, c]),
          blocks.blockedEither(b, [a, c]),
          blocks.blockedEither(c, [a]),
          blocks.blockedEither(a, []),
          blocks.blockedEither(c, [b, b]),
        ]),
      ).toEqual([new Set([b]), new Set([a, c]), new Set(), new Set(), new Set([b])]);
    });

    it('refuses a send in a direct chat whose other member blocked the sender, not in a group', async () => {
      const { blocks, chat, a, b, c } = await world();
      const direct = await chat('direct', [a, b]);
      const group = await chat('group', [a, b, c]);
      await blocks.block(a, b, now());
      expect(await blocks.blockedInDirectChat(direct, b)).toBe(true);
      // The blocker may still write to the one they blocked.
      expect(await blocks.blockedInDirectChat(direct, a)).toBe(false);
      expect(await blocks.blockedInDirectChat(group, b)).toBe(false);
      expect(await blocks.blockedInDirectChat('c_missing', b)).toBe(false);
      await blocks.unblock(a, b);
      expect(await blocks.blockedInDirectChat(direct, b)).toBe(false);
    });
  });
}
