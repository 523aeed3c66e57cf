// The embedded backend: one SQLite file is log and store (the store is written inside the log's
// commit), presence, routes and the gateway bus live in this process.
import path from 'node:path';
import type { Config } from '../config/config.js';
import { DiskBlobStore } from '../adapters/disk/blob-store.js';
import { loadOrCreateMediaSecret } from '../adapters/disk/media-secret.js';
import { MemoryAttemptLimiter } from '../adapters/memory/attempt-limiter.js';
import { MemoryGatewayBus } from '../adapters/memory/gateway-bus.js';
import { MemoryPresence } from '../adapters/memory/presence.js';
import { MemoryRevocations } from '../adapters/memory/revocations.js';
import { MemoryRoutes } from '../adapters/memory/routes.js';
import { SqliteAccountStore } from '../adapters/sqlite/account-store.js';
import { SqliteCredentials } from '../adapters/sqlite/credentials.js';
import { openDatabase } from '../adapters/sqlite/db.js';
import { SqliteEventLog } from '../adapters/sqlite/event-log.js';
import { SqlitePushSubscriptions } from '../adapters/sqlite/push-subscriptions.js';
import { SqliteStore } from '../adapters/sqlite/store.js';
import { SqliteBlocks, SqliteReports, SqliteSuspensions } from '../adapters/sqlite/safety.js';
import { loadOrCreateVapidKeys } from '../adapters/webpush/vapid-keys.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Backend } from './backend.js';

export function embeddedBackend(deps: { config: Readonly<Config>; logger: Logger; metrics: Metrics }): Backend {
  const db = openDatabase(path.join(deps.config.dataDir, 'messenger.db'));
  const store = new SqliteStore({ db });
  // The log's writer thread also writes the store's tables, in the same transactions.
  const log = new SqliteEventLog({ db, logger: deps.logger, metrics: deps.metrics, writeStore: true, thread: true });
  return {
    name: 'embedded',
    userStore: store.users,
    presenceVisibility: store.users,
    people: store.people,
    conversationStore: store.conversations,
    memberStanding: store.conversations,
    blocks: new SqliteBlocks({ db }),
    reports: new SqliteReports({ db }),
    suspensions: new SqliteSuspensions({ db }),
    messageStore: store.messages,
    // The writer thread indexes after its commits: a search first lets the index catch up.
    messageSearch: {
      search: async (viewerId, query) => {
        await log.searchIndexed();
        return store.search.search(viewerId, query);
      },
    },
    recordSink: store.records,
    log,
    presence: new MemoryPresence(),
    routes: new MemoryRoutes(),
    bus: new MemoryGatewayBus(),
    pushSubscriptions: new SqlitePushSubscriptions({ db }),
    credentials: new SqliteCredentials({ db }),
    accountStore: new SqliteAccountStore({ db, withReactions: (rows) => store.messages.withReactions(rows) }),
    attempts: new MemoryAttemptLimiter(),
    revocations: new MemoryRevocations(),
    blobs: new DiskBlobStore({ dir: path.join(deps.config.dataDir, 'uploads') }),
    uploads: store.uploads,
    mediaSecret: async () => loadOrCreateMediaSecret(deps.config.dataDir),
    readiness: { sqlite: () => store.ping() },
    /** The store is written inside the log's commit, so there is no separate persister here. */
    inlinePersister: true,
    fanoutFrom: 'now',
    vapidKeys: async () => loadOrCreateVapidKeys(deps.config.dataDir),
    close: () => store.close(),
  };
}
