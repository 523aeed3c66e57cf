// Typed, validated, frozen settings read once from the environment.
import path from 'node:path';
import { LIMITS } from '@messenger/protocol';

export type Role = 'gateway' | 'persister' | 'fanout' | 'notifier';
export const ALL_ROLES: readonly Role[] = ['gateway', 'persister', 'fanout', 'notifier'];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  /** Cluster: the role that may run DDL, for pending migrations; null: DATABASE_URL's (deploy/postgres/roles.sql). */
  databaseMigrationUrl: string | null;
  natsUrl: string | null;
  redisUrl: string | null;
  /** Extra browser origins allowed to open the WebSocket; the server's own origin is always allowed. */
  allowedOrigins: string[];
  pushAllowedOrigins: string[];
  /** The contact push services see in our VAPID JWTs: a mailto: or https: URL. */
  vapidSubject: string;
  /** Messages per user per 10 s; 0 = unlimited. */
  rateLimitMessages: number;
  /** Sign-ups per client IP per minute; 0 = unlimited. */
  rateLimitSignups: number;
  roles: Role[];
  /** Conversations a user may create per hour; 0 = unlimited. */
  rateLimitConversations: number;
  /** Search requests per user per minute; 0 = unlimited. */
  rateLimitSearches: number;
  /** Sockets one address may hold open before they authenticate, per gateway; 0 = unlimited. */
  maxUnauthenticatedSocketsPerIp: number;
  /** Sockets one user may hold open, per gateway; 0 = unlimited. */
  maxSocketsPerUser: number;
  /** Frames per second a socket may send on average, `send` aside (bursts of 10 s); 0 = unlimited. */
  rateLimitFrames: number;
  /** Operators: usernames that may read reports and suspend users. */
  adminUsernames: string[];
  /** A device session ends after this many days without use. */
  sessionIdleDays: number;
  maxGroupMembers: number;
  editWindowMs: number;
  /** How often the gateway pings a socket; a socket that misses a pong is closed at the next tick. */
  pingIntervalMs: number;
  authTimeoutMs: number;
  /** Bytes a socket may have queued before it is closed as a slow consumer. */
  maxSocketBufferBytes: number;
  /** Delay before a combined presence change is announced, so flapping connections do not flood. */
  presenceCoalesceMs: number;
  logLevel: string;
  /** Cluster: partitions of the JetStream log (fixed for the life of the data) and their replicas. */
  logPartitions: number;
  logReplicas: number;
  /** Cluster: how long the log keeps a record (0: for ever); the store is the record after it. */
  logMaxAgeMs: number;
  /** Cluster: past this lag of the store behind a log partition, gateways refuse new sends (503); 0 = never. */
  storeLagBoundMs: number;
  /** Cluster: lets several deployments share one PostgreSQL database, NATS and Redis (e.g. tests). */
  databaseSchema: string | null;
  /** Cluster: connections this process's PostgreSQL pool may open; null: by role (docs/scaling.md). */
  databasePoolSize: number | null;
  /** Cluster: a transaction pooler (PgBouncer) sits in front of PostgreSQL; no session state is kept. */
  databasePooler: 'pgbouncer' | null;
  logStreamPrefix: string;
  redisKeyPrefix: string;
  /** Largest upload accepted (POST /v1/uploads); the JSON body limit does not apply there. */
  maxUploadBytes: number;
  /** LINK_PREVIEWS=off: the server never fetches the pages messages link to. */
  linkPreviews: boolean;
  /** Hosts whose link previews may be fetched although they resolve to private addresses (tests). */
  linkPreviewAllowedHosts: string[];
  /** Cluster: S3-compatible object storage for uploads (S3_BUCKET set); null keeps them on disk. */
  s3: {
    endpoint: string | null;
    bucket: string;
    region: string;
    accessKeyId: string | null;
    secretAccessKey: string | null;
  } | null;
  webDir: string | null;
}

export class ConfigError extends Error {}

const DEFAULT_PUSH_ORIGINS = [
  'https://fcm.googleapis.com',
  'https://updates.push.services.mozilla.com',
  'https://web.push.apple.com',
  'https://wns2-par02p.notify.windows.com',
  'https://notify.windows.com',
];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function pooler(raw: string | undefined): 'pgbouncer' | null {
  if (!raw) return null;
  if (raw !== 'pgbouncer') throw new ConfigError(`DATABASE_POOLER: unknown pooler "${raw}" (known: pgbouncer)`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const roles = env.ROLES ? list(env.ROLES) : ALL_ROLES;
  for (const role of roles) {
    if (!ALL_ROLES.includes(role as Role))
      throw new ConfigError(`ROLES: unknown role "${role}" (known: ${ALL_ROLES.join(', ')})`);
  }
  const config: Config = {
    port: int(env, 'PORT', 8080),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || null,
    databaseMigrationUrl: env.DATABASE_MIGRATION_URL || null,
    natsUrl: env.NATS_URL || null,
    redisUrl: env.REDIS_URL || null,
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    pushAllowedOrigins: env.PUSH_ALLOWED_ORIGINS ? list(env.PUSH_ALLOWED_ORIGINS) : DEFAULT_PUSH_ORIGINS,
    vapidSubject: env.VAPID_SUBJECT || 'mailto:admin@localhost',
    rateLimitMessages: int(env, 'RATE_LIMIT_MESSAGES', 60),
    rateLimitSignups: int(env, 'RATE_LIMIT_SIGNUPS', 10),
    roles: roles as Role[],
    rateLimitConversations: int(env, 'RATE_LIMIT_CONVERSATIONS', 100),
    rateLimitSearches: int(env, 'RATE_LIMIT_SEARCHES', 60),
    maxUnauthenticatedSocketsPerIp: int(env, 'MAX_UNAUTHENTICATED_SOCKETS_PER_IP', 50),
    maxSocketsPerUser: int(env, 'MAX_SOCKETS_PER_USER', 20),
    rateLimitFrames: int(env, 'RATE_LIMIT_FRAMES', 20),
    adminUsernames: list(env.ADMIN_USERNAMES),
    sessionIdleDays: int(env, 'SESSION_IDLE_DAYS', 30, 1),
    maxGroupMembers: int(env, 'MAX_GROUP_MEMBERS', LIMITS.maxGroupMembers, 2),
    editWindowMs: int(env, 'EDIT_WINDOW_MS', LIMITS.editWindowMs),
    pingIntervalMs: int(env, 'PING_INTERVAL_MS', 25_000, 100),
    authTimeoutMs: int(env, 'AUTH_TIMEOUT_MS', 10_000, 100),
    maxSocketBufferBytes: int(env, 'MAX_SOCKET_BUFFER_BYTES', 4 * 1024 * 1024, 1024),
    presenceCoalesceMs: int(env, 'PRESENCE_COALESCE_MS', 1000),
    logLevel: env.LOG_LEVEL || 'info',
    logPartitions: int(env, 'LOG_PARTITIONS', 4, 1),
    logReplicas: int(env, 'LOG_REPLICAS', 1, 1),
    logMaxAgeMs: int(env, 'LOG_MAX_AGE_DAYS', 0) * 86_400_000,
    storeLagBoundMs: int(env, 'STORE_LAG_BOUND_MS', 2_000),
    databaseSchema: env.DATABASE_SCHEMA || null,
    databasePoolSize: env.DATABASE_POOL_SIZE ? int(env, 'DATABASE_POOL_SIZE', 1, 1) : null,
    databasePooler: pooler(env.DATABASE_POOLER),
    logStreamPrefix: env.LOG_STREAM_PREFIX || 'log',
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? '',
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 100 * 1024 * 1024, 1),
    linkPreviews: env.LINK_PREVIEWS !== 'off',
    linkPreviewAllowedHosts: env.LINK_PREVIEW_ALLOWED_HOSTS ? list(env.LINK_PREVIEW_ALLOWED_HOSTS) : [],
    s3: env.S3_BUCKET
      ? {
          endpoint: env.S3_ENDPOINT || null,
          bucket: env.S3_BUCKET,
          region: env.S3_REGION || 'us-east-1',
          accessKeyId: env.S3_ACCESS_KEY_ID || null,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY || null,
        }
      : null,
    webDir: env.WEB_DIR === undefined ? null : env.WEB_DIR,
    ...overrides,
  };
  if (!/^(mailto:|https:\/\/)\S+$/.test(config.vapidSubject))
    throw new ConfigError(`VAPID_SUBJECT must be a mailto: or https: URL, got "${config.vapidSubject}"`);
  return Object.freeze(config);
}
