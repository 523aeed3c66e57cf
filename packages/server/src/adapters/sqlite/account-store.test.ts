// SqliteAccountStore: the AccountStore contract.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accountStoreContract } from '../../core/users/account-store.contract.js';
import { SqliteAccountStore } from './account-store.js';
import { SqliteCredentials } from './credentials.js';
import { SqliteSuspensions } from './safety.js';
import { openDatabase } from './db.js';

accountStoreContract('SqliteAccountStore', {
  open: async () => {
    const db = openDatabase(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'accounts-')), 'messenger.db'));
    return {
      accounts: new SqliteAccountStore({ db, withReactions: () => [] }),
      credentials: new SqliteCredentials({ db }),
      suspensions: new SqliteSuspensions({ db }),
      close: async () => {
        db.close();
      },
    };
  },
});
