// Deleted for everyone means gone from storage: no copy of the text stays in the SQLite file
// (messages, search index, the event log's entries of the send and of its edits).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLUSTER, directChat, signUpMany, startTestServer } from './harness.js';

// Skipped in cluster mode: it reads the embedded SQLite file's bytes (WAL, free pages); the cluster
// run checks the PostgreSQL store instead (message-features.test.ts, "the log keeps no copy").
describe.skipIf(CLUSTER)('delete for everyone forgets the text', () => {
  it('leaves no copy of the text or its edits in the database file', async () => {
    const server = await startTestServer();
    const [alice, bob] = await signUpMany(server, 2);
    const conv = await directChat(alice, bob);
    const sent = await alice.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'f1',
      body: 'zebrafirst quokkaoriginal',
    });
    await alice.call('POST', `/v1/conversations/${conv}/messages`, {
      clientMsgId: 'f2',
      body: 'an unrelated message stays',
    });
    const id = sent.body.message.id;
    expect(
      (await alice.call('PATCH', `/v1/conversations/${conv}/messages/${id}`, { body: 'zebrasecond quokkaedited' }))
        .status,
    ).toBe(200);
    expect((await bob.call('GET', '/v1/search?q=quokkaedited')).body.results).toHaveLength(1);
    expect((await alice.call('DELETE', `/v1/conversations/${conv}/messages/${id}?for=everyone`)).status).toBe(204);
    expect((await bob.call('GET', '/v1/search?q=quokka')).body.results).toHaveLength(0);
    await server.close();

    const file = path.join(server.dataDir, 'messenger.db');
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = fs.readFileSync(file).toString('latin1');
    // The texts are gone. (Single index terms may linger inside FTS5 segment pages until the
    // segment is merged; they are unreachable by search, as the searches above show.)
    for (const text of ['zebrafirst quokkaoriginal', 'zebrasecond quokkaedited'])
      expect(bytes.includes(text), text).toBe(false);
    expect(bytes.includes('an unrelated message stays')).toBe(true);
  });
});
