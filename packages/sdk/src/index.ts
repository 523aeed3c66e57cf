export { MessengerClient, webSocketUrl } from './client.js';
export type {
  ClientState,
  MessengerClientOptions,
  ResyncEvent,
  UnauthenticatedEvent,
} from './client-types.js';
export {
  HttpApi,
  type BrowserPushSubscriptionJson,
  type FetchLike,
  type HttpApiOptions,
  type SignInBody,
  type SignUpBody,
} from './http-api.js';
export { MessengerError } from './errors.js';
export { SafetyApi, type SafetyTransport } from './safety-api.js';
export type { WebSocketCtor, WebSocketLike, RequestFields } from './connection.js';
export { MemoryOutboxStore, type OutboxAttachment, type OutboxItem, type OutboxStore } from './outbox-store.js';
export type { UploadOptions } from './upload.js';
export { LocalStorageOutboxStore, type KeyValueStorage } from './outbox-store-local-storage.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { SeqTracker } from './seq-tracker.js';
