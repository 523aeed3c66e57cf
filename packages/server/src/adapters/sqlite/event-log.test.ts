import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { eventLogContract } from '../../core/messages/event-log.contract.js';
import { openDatabase } from './db.js';
import { SqliteEventLog } from './event-log.js';

const logger = pino({ level: 'silent' });

for (const thread of [false, true]) {
  eventLogContract(`SqliteEventLog (${thread ? 'writer thread' : 'same thread'})`, {
    place: () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'log-contract-')), 'log.db'),
    open: async (place) => {
      const db = openDatabase(place);
      const log = new SqliteEventLog({ db, logger, thread });
      const close = log.close.bind(log);
      log.close = async () => {
        await close();
        db.close();
      };
      return log;
    },
  });
}
