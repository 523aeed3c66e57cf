// Notifications for one signed-in user: the on/off choice (kept per user in localStorage), the Web Push
// subscription behind it (service worker /sw.js, VAPID key from the server), and, while the tab is open
// but hidden, notifications shown by the page itself through the Notification API.
import type { HttpApi } from '@messenger/sdk';

export interface NotifyState {
  /** The user's choice, as far as the browser lets it hold (a revoked permission turns it off). */
  enabled: boolean;
  /**
   * `push`: subscribed, notified even with the app closed. `page`: push is unavailable here, so
   * notifications come only while a tab of the app is open. `null` when off.
   */
  mode: 'push' | 'page' | null;
  busy: boolean;
  /** Why notifications are off or limited, for the user; null when all is well. */
  message: string | null;
}

/** Posted by the service worker when a notification is clicked and a window of the app exists. */
export interface OpenChatMessage {
  type: 'open-chat';
  conversationId: string;
}

const SW_URL = '/sw.js';
/** A browser without a reachable push service can leave subscribe() pending for a long time. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;

export const MESSAGES = {
  unsupported: 'This browser cannot show notifications.',
  denied:
    'Notifications are blocked for this site. Allow them in your browser’s site settings, then turn them on again.',
  pushUnavailable:
    'Push notifications are unavailable in this browser, so you will be notified only while this tab is open.',
  failed: 'Could not turn notifications on. Try again.',
} as const;

class PushUnavailable extends Error {}

export function chatHash(conversationId: string): string {
  return `#/c/${encodeURIComponent(conversationId)}`;
}

export class Notifications {
  readonly #api: HttpApi;
  readonly #key: string;
  readonly #listeners = new Set<() => void>();
  #state: NotifyState;
  #swListener: ((e: MessageEvent) => void) | undefined;

  constructor(api: HttpApi, userId: string) {
    this.#api = api;
    this.#key = `messenger.notifications.${userId}`;
    const wanted = this.#stored() && permission() === 'granted';
    this.#state = { enabled: wanted, mode: null, busy: false, message: null };
  }

  subscribe = (fn: () => void): (() => void) => {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  };

  getSnapshot = (): NotifyState => this.#state;

  /**
   * On sign-in: follows clicks relayed by the service worker, and if notifications were on, renews
   * the push subscription (the browser may have rotated it) without asking for anything.
   */
  start(): void {
    const sw = serviceWorkerContainer();
    if (sw && !this.#swListener) {
      this.#swListener = (e: MessageEvent) => {
        const data = e.data as Partial<OpenChatMessage> | null;
        if (data?.type === 'open-chat' && typeof data.conversationId === 'string')
          location.hash = chatHash(data.conversationId);
      };
      sw.addEventListener('message', this.#swListener);
    }
    if (!this.#stored()) return;
    if (permission() !== 'granted') {
      // Revoked in the browser's settings since: the choice cannot hold.
      this.#store(false);
      this.#set({ enabled: false, mode: null, message: permission() === 'denied' ? MESSAGES.denied : null });
      return;
    }
    void this.#subscribePush().then(
      () => this.#set({ mode: 'push', message: null }),
      () => this.#set({ mode: 'page', message: MESSAGES.pushUnavailable }),
    );
  }

  stop(): void {
    if (this.#swListener) serviceWorkerContainer()?.removeEventListener('message', this.#swListener);
    this.#swListener = undefined;
  }

  /** From the toggle: asks for permission, registers the service worker and subscribes to push. */
  async enable(): Promise<void> {
    if (this.#state.busy) return;
    if (typeof Notification === 'undefined') {
      this.#set({ enabled: false, mode: null, message: MESSAGES.unsupported });
      return;
    }
    this.#set({ busy: true, message: null });
    try {
      const granted = permission() === 'granted' ? 'granted' : await Notification.requestPermission();
      if (granted !== 'granted') {
        this.#store(false);
        this.#set({ enabled: false, mode: null, message: MESSAGES.denied });
        return;
      }
      this.#store(true);
      this.#set({ enabled: true });
      try {
        await this.#subscribePush();
        this.#set({ mode: 'push', message: null });
      } catch (error) {
        console.warn('push subscription failed; notifying from the page only', error);
        this.#set({ mode: 'page', message: MESSAGES.pushUnavailable });
      }
    } catch {
      this.#set({ message: MESSAGES.failed });
    } finally {
      this.#set({ busy: false });
    }
  }

  /** From the toggle: forgets the subscription on the server and in the browser. */
  async disable(): Promise<void> {
    if (this.#state.busy) return;
    this.#store(false);
    this.#set({ enabled: false, mode: null, message: null, busy: true });
    try {
      await this.#unsubscribePush();
    } finally {
      this.#set({ busy: false });
    }
  }

  /** Signing out: this browser must stop getting the user's pushes; the choice stays for the next sign-in. */
  async signOut(): Promise<void> {
    this.stop();
    await this.#unsubscribePush().catch(() => {});
  }

  /** A message for the user while the tab is open but hidden; clicking it brings the chat up. */
  showFromPage(conversationId: string, title: string, body: string): void {
    if (!this.#state.enabled || typeof Notification === 'undefined' || permission() !== 'granted') return;
    try {
      const n = new Notification(title, { body, tag: conversationId, data: { conversationId } });
      n.onclick = () => {
        window.focus();
        location.hash = chatHash(conversationId);
        n.close();
      };
    } catch {
      // Some browsers (Android Chrome) allow notifications only through a service worker.
      void navigator.serviceWorker
        ?.getRegistration()
        .then((reg) => reg?.showNotification(title, { body, tag: conversationId, data: { conversationId } }));
    }
  }

  async #subscribePush(): Promise<void> {
    const sw = serviceWorkerContainer();
    if (!sw) throw new PushUnavailable('no service workers');
    await sw.register(SW_URL);
    const registration = await withTimeout(sw.ready, SUBSCRIBE_TIMEOUT_MS, 'service worker did not activate');
    if (!('pushManager' in registration)) throw new PushUnavailable('no Push API');
    const publicKey = await this.#api.vapidPublicKey();
    const applicationServerKey = base64UrlToBytes(publicKey);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
      // Made for another server key (the server's keys were regenerated): useless now.
      await subscription.unsubscribe().catch(() => false);
      subscription = null;
    }
    subscription ??= await withTimeout(
      registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: applicationServerKey as BufferSource,
      }),
      SUBSCRIBE_TIMEOUT_MS,
      'no answer from the push service',
    );
    await this.#api.subscribePush(subscription.toJSON());
  }

  async #unsubscribePush(): Promise<void> {
    const registration = await serviceWorkerContainer()?.getRegistration(SW_URL);
    const subscription = await registration?.pushManager?.getSubscription();
    if (!subscription) return;
    await this.#api.unsubscribePush(subscription.endpoint).catch(() => {});
    await subscription.unsubscribe().catch(() => false);
  }

  #stored(): boolean {
    try {
      return localStorage.getItem(this.#key) === 'on';
    } catch {
      return false;
    }
  }

  #store(on: boolean): void {
    try {
      if (on) localStorage.setItem(this.#key, 'on');
      else localStorage.removeItem(this.#key);
    } catch {
      // Private mode without storage: the choice lasts for this page only.
    }
  }

  #set(patch: Partial<NotifyState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const fn of this.#listeners) fn();
  }
}

function permission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

function serviceWorkerContainer(): ServiceWorkerContainer | undefined {
  // Absent on plain http origins other than localhost, and in some private modes.
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
}

export function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function sameKey(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PushUnavailable(what)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
