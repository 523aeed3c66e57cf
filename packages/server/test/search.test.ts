// SearchChats: accent-insensitive, prefix, CJK, the conversationId filter, and only what the caller may see.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGroup, directChat, expectError, sendHttp, serverForFile, signUpMany, type TestUser } from './harness.js';

const server = serverForFile();
let ann: TestUser;
let bob: TestUser;
let cat: TestUser;
let direct: string;
let group: string;
const ids: Record<string, string> = {};
beforeAll(async () => {
  [ann, bob, cat] = await signUpMany(server, 3);
  direct = await directChat(ann, bob);
  group = await createGroup(ann, [bob, cat], 'search');
  ids.cafe = (await sendHttp(bob, direct, 'Meet me at the café at noon')).id;
  ids.bananas = (await sendHttp(ann, direct, 'I bought bananas today')).id;
  ids.tokyo = (await sendHttp(bob, direct, '我住在東京都')).id;
  ids.groupCafe = (await sendHttp(cat, group, 'Another CAFÉ downtown')).id;
  ids.noise = (await sendHttp(cat, group, 'nothing relevant here')).id;
});

const search = async (u: TestUser, query: string) => {
  const res = await u.call('GET', `/v1/search?${query}`);
  expect(res.status).toBe(200);
  return res.body.results as any[];
};
const found = async (u: TestUser, query: string) => (await search(u, query)).map((r) => r.message.id).sort();

describe('matching', () => {
  it('is accent- and case-insensitive: cafe finds café and CAFÉ', async () => {
    expect(await found(ann, 'q=cafe')).toEqual([ids.cafe, ids.groupCafe].sort());
    expect(await found(ann, `q=${encodeURIComponent('CAFÉ')}`)).toEqual([ids.cafe, ids.groupCafe].sort());
  });

  it('matches word prefixes: banan finds bananas', async () => {
    expect(await found(ann, 'q=banan')).toEqual([ids.bananas]);
    expect(await found(ann, 'q=xbanan')).toEqual([]);
  });

  it('finds CJK words inside unspaced text: 東京 in 我住在東京都', async () => {
    expect(await found(ann, `q=${encodeURIComponent('東京')}`)).toEqual([ids.tokyo]);
    expect(await found(ann, `q=${encodeURIComponent('京都')}`)).toEqual([ids.tokyo]);
    expect(await found(ann, `q=${encodeURIComponent('大阪')}`)).toEqual([]);
  });

  it('requires every term', async () => {
    expect(await found(ann, 'q=cafe%20noon')).toEqual([ids.cafe]);
  });

  it('results carry conversationId, the message and a snippet', async () => {
    const [result] = await search(ann, 'q=banan');
    expect(result.conversationId).toBe(direct);
    expect(result.message).toMatchObject({ id: ids.bananas, body: 'I bought bananas today', conversationId: direct });
    expect(typeof result.snippet).toBe('string');
    expect(result.snippet).toContain('bananas');
  });

  it('filters by conversationId and limit', async () => {
    expect(await found(ann, `q=cafe&conversationId=${group}`)).toEqual([ids.groupCafe]);
    expect(await found(ann, `q=cafe&conversationId=${direct}`)).toEqual([ids.cafe]);
    expect((await search(ann, 'q=cafe&limit=1')).length).toBe(1);
  });

  it('is 404 with the conversationId of a conversation the caller is not in', async () => {
    expectError(await cat.call('GET', `/v1/search?q=cafe&conversationId=${direct}`), 404, 'not_found');
    expect(await found(cat, 'q=cafe')).toEqual([ids.groupCafe]);
  });
});

describe('visibility', () => {
  it('never returns deleted, hidden-for-me, or left conversations’ messages', async () => {
    const [u1, u2, u3] = await signUpMany(server, 3);
    const g = await createGroup(u1, [u2, u3], 'vis');
    const gone = await sendHttp(u1, g, 'kumquat deleted');
    const hidden = await sendHttp(u1, g, 'kumquat hidden');
    const kept = await sendHttp(u1, g, 'kumquat kept');
    await u1.call('DELETE', `/v1/conversations/${g}/messages/${gone.id}?for=everyone`);
    await u2.call('DELETE', `/v1/conversations/${g}/messages/${hidden.id}?for=me`);
    expect(await found(u2, 'q=kumquat')).toEqual([kept.id]);
    expect(await found(u3, 'q=kumquat')).toEqual([hidden.id, kept.id].sort());
    expect(await found(u1, 'q=deleted')).toEqual([]);
    expect((await u3.call('DELETE', `/v1/conversations/${g}/members/me`)).status).toBe(204);
    expect(await found(u3, 'q=kumquat')).toEqual([]);
    expect(await found(u1, 'q=kumquat')).toEqual([hidden.id, kept.id].sort());
  });

  it('a member added later does not find messages from before they joined', async () => {
    const [u1, u2, late] = await signUpMany(server, 3);
    const g = await createGroup(u1, [u2], 'late');
    await sendHttp(u1, g, 'durian before');
    await u1.call('POST', `/v1/conversations/${g}/members`, { userIds: [late.id] });
    // Added by a stranger, the group is a request for them, and search leaves requests out.
    expect((await late.call('POST', `/v1/conversations/${g}/accept`)).status).toBe(200);
    const after = await sendHttp(u1, g, 'durian after');
    expect(await found(late, 'q=durian')).toEqual([after.id]);
  });
});
