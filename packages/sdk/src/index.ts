export {
  MessengerClient,
  webSocketUrl,
  type ClientState,
  type MessengerClientOptions,
  type ResyncEvent,
} from './client.js';
export { HttpApi, type BrowserPushSubscriptionJson, type FetchLike, type HttpApiOptions } from './http-api.js';
export { MessengerError } from './errors.js';
export type { WebSocketCtor, WebSocketLike, RequestFields } from './connection.js';
export { MemoryOutboxStore, type OutboxItem, type OutboxStore } from './outbox-store.js';
export { LocalStorageOutboxStore, type KeyValueStorage } from './outbox-store-local-storage.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { SeqTracker } from './seq-tracker.js';
