// Operator commands about users and reports from a shell on the server: suspend or restore a user,
// list the newest reports. They open the stores directly with the server's own settings and go
// through the Moderation use case as the shell's operator (trusted like ADMIN_USERNAMES). In
// cluster mode a suspension's revocation is published over NATS, so the user's sockets close on
// every gateway at once; in embedded mode the running server's credential cache (a few seconds)
// and its periodic re-check of open sockets end them.
import path from 'node:path';
import type { Config } from '../config/config.js';
import type { ReportStore } from '../core/safety/report-store.js';
import { Moderation } from '../core/safety/moderation.js';
import type { SuspensionStore } from '../core/safety/suspension-store.js';
import type { CredentialStore } from '../core/users/credential-store.js';
import type { Revocations } from '../core/users/revocations.js';
import type { UserStore } from '../core/users/user-store.js';
import type { BlockStore } from '../core/safety/block-store.js';
import type { MessageStore } from '../core/messages/message-store.js';
import { openMigratedPool, openNatsRevocations } from './cluster-access.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = `usage: npm run admin -- <command>
  users suspend USERNAME --reason TEXT   ends every token and key of the user at once; signing in answers 403
  users unsuspend USERNAME               lifts a suspension
  reports [--limit N]                    the newest reports (default 20), one JSON object a line`;

/** Exit codes: 0 done, 1 no such user, 64 usage. */
export async function runModeration(config: Readonly<Config>, args: string[], io: Output): Promise<number> {
  const [command, sub, username] = args;
  const reason = optionValue(args, '--reason');
  const limit = Number(optionValue(args, '--limit') ?? 20);
  const valid =
    (command === 'users' && sub === 'suspend' && username && reason?.trim()) ||
    (command === 'users' && sub === 'unsuspend' && username) ||
    (command === 'reports' && Number.isInteger(limit) && limit > 0 && limit <= 1000);
  if (!valid) {
    io.err(USAGE);
    return 64;
  }
  const stores = await openStores(config);
  try {
    const moderation = new Moderation({
      ...stores,
      // Filing reports and blocking are a member's acts, which the shell never does.
      conversations: {
        requireMember: async () => {
          throw new Error('not from the shell');
        },
      },
      presence: { blockChanged: async () => undefined },
      // The running servers' caches: the revocation reaches them (cluster) or ages out (embedded).
      authenticator: { forget: () => undefined },
      adminUsernames: [],
    });
    if (command === 'reports') {
      for (const report of (await stores.reports.reports(limit)).reverse()) io.out(JSON.stringify(report));
      return 0;
    }
    const user = await stores.users.userByUsername(username!);
    if (!user) {
      io.err(`no user ${username}`);
      return 1;
    }
    if (sub === 'suspend') {
      await moderation.suspend(null, user.id, reason!.trim());
      io.out(`suspended ${user.username} (${user.id})`);
    } else {
      const was = await stores.suspensions.isSuspended(user.id);
      await moderation.unsuspend(null, user.id);
      io.out(was ? `lifted the suspension of ${user.username}` : `${user.username} was not suspended`);
    }
    return 0;
  } finally {
    await stores.close();
  }
}

function optionValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

interface Stores {
  users: Pick<UserStore, 'usersByIds' | 'userByUsername'>;
  messages: Pick<MessageStore, 'message'>;
  blocks: BlockStore;
  reports: ReportStore;
  suspensions: SuspensionStore;
  credentials: Pick<CredentialStore, 'sessions' | 'apiKeys'>;
  revocations: Revocations;
  close(): Promise<void>;
}

async function openStores(config: Readonly<Config>): Promise<Stores> {
  if (!config.databaseUrl) {
    const { openDatabase } = await import('../adapters/sqlite/db.js');
    const { SqliteStore } = await import('../adapters/sqlite/store.js');
    const { SqliteCredentials } = await import('../adapters/sqlite/credentials.js');
    const { MemoryRevocations } = await import('../adapters/memory/revocations.js');
    const db = openDatabase(path.join(config.dataDir, 'messenger.db'));
    const store = new SqliteStore({ db });
    return {
      ...parts(store),
      credentials: new SqliteCredentials({ db }),
      revocations: new MemoryRevocations(),
      close: () => store.close(),
    };
  }
  const { PostgresStore } = await import('../adapters/postgres/store.js');
  const { PostgresCredentials } = await import('../adapters/postgres/credentials.js');
  const pool = await openMigratedPool(config, config.databaseUrl);
  const store = new PostgresStore({ pool });
  let revocations: Revocations;
  if (config.natsUrl) revocations = await openNatsRevocations(config, config.natsUrl);
  else {
    const { MemoryRevocations } = await import('../adapters/memory/revocations.js');
    revocations = new MemoryRevocations();
  }
  return {
    ...parts(store),
    credentials: new PostgresCredentials({ pool }),
    revocations,
    close: async () => {
      await revocations.close();
      await store.close();
      await pool.end();
    },
  };
}

function parts(store: Omit<Stores, 'credentials' | 'revocations' | 'close'>) {
  const { users, messages, blocks, reports, suspensions } = store;
  return { users, messages, blocks, reports, suspensions };
}
