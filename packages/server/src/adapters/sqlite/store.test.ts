import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeContract } from '../../core/store.contract.js';
import { openDatabase } from './db.js';
import { SqliteStore } from './store.js';

storeContract('SqliteStore', {
  open: async () =>
    new SqliteStore({
      db: openDatabase(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-contract-')), 'store.db')),
    }),
});
