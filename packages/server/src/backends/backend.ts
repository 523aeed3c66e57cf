// What a backend preset hands to the composition root: one implementation of every port.
import type { ConversationStore } from '../core/conversations/conversation-store.js';
import type { BlobStore } from '../core/media/blob-store.js';
import type { UploadStore } from '../core/media/upload-store.js';
import type { MemberStanding } from '../core/conversations/member-standing.js';
import type { BlockStore } from '../core/safety/block-store.js';
import type { ReportStore } from '../core/safety/report-store.js';
import type { SuspensionStore } from '../core/safety/suspension-store.js';
import type { EventLog } from '../core/messages/event-log.js';
import type { MessageSearch } from '../core/messages/message-search.js';
import type { MessageStore } from '../core/messages/message-store.js';
import type { RecordSink } from '../core/messages/record-sink.js';
import type { PushSubscriptions } from '../core/notifications/subscriptions.js';
import type { Presence } from '../core/presence/presence.js';
import type { PresenceVisibility } from '../core/presence/presence-visibility.js';
import type { GatewayBus } from '../core/routing/gateway-bus.js';
import type { Routes } from '../core/routing/routes.js';
import type { AccountStore } from '../core/users/account-store.js';
import type { AttemptLimiter } from '../core/users/attempt-limiter.js';
import type { CredentialStore } from '../core/users/credential-store.js';
import type { PeopleDirectory } from '../core/users/people-directory.js';
import type { Revocations } from '../core/users/revocations.js';
import type { UserStore } from '../core/users/user-store.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export interface Backend {
  name: 'embedded' | 'cluster';
  userStore: UserStore;
  people: PeopleDirectory;
  presenceVisibility: PresenceVisibility;
  conversationStore: ConversationStore;
  memberStanding: MemberStanding;
  blocks: BlockStore;
  reports: ReportStore;
  suspensions: SuspensionStore;
  messageStore: MessageStore;
  messageSearch: MessageSearch;
  /** The persister's write; unused where the log's commit writes the store (inlinePersister). */
  recordSink: RecordSink;
  log: EventLog;
  presence: Presence;
  routes: Routes;
  bus: GatewayBus;
  pushSubscriptions: PushSubscriptions;
  credentials: CredentialStore;
  accountStore: AccountStore;
  /** Sign-in attempts; shared by every gateway of the deployment. */
  attempts: AttemptLimiter;
  revocations: Revocations;
  /** Uploaded files' bytes: on disk (embedded) or in S3-compatible storage (cluster). */
  blobs: BlobStore;
  uploads: UploadStore;
  /** The key that signs download URLs, the same in every process. */
  mediaSecret(): Promise<string>;
  readiness: Record<string, () => Promise<void>>;
  /** True when the log's commit already writes the store (no persister role to run). */
  inlinePersister: boolean;
  /**
   * Where fan-out starts reading: `now` when sockets live in this process and die with it (their
   * clients catch up), `durable` when fan-out is a worker that must survive its own restarts.
   */
  fanoutFrom: 'now' | 'durable';
  /** The deployment's one VAPID key pair, the same in every process. */
  vapidKeys(): Promise<VapidKeys>;
  /** Releases what the ports share (connections, pools, the database) after each port was closed. */
  close(): Promise<void>;
}
