import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pushSubscriptionsContract } from '../../core/notifications/subscriptions.contract.js';
import { openDatabase } from './db.js';
import { SqlitePushSubscriptions } from './push-subscriptions.js';
import { SqliteStore } from './store.js';

pushSubscriptionsContract('SqlitePushSubscriptions', {
  open: async () => {
    const db = openDatabase(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'push-contract-')), 'messenger.db'));
    return { subscriptions: new SqlitePushSubscriptions({ db }), store: new SqliteStore({ db }) };
  },
});
