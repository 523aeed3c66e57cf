// The messenger's service worker: shows Web Push notifications while no window of the app is on
// screen, keeps the app badge, and opens (or focuses) the chat when a notification is clicked.
// Plain script, not bundled: Vite copies public/ to dist/ as is, and the server serves it at /sw.js.
/* eslint-env serviceworker */

self.addEventListener('install', () => {
  // Nothing to cache: take over from an older version at once.
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** `#/c/<id>`: the app's route of one chat. */
function chatHash(conversationId) {
  return `#/c/${encodeURIComponent(conversationId)}`;
}

async function appWindows() {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
}

/**
 * A push from the notifier (PushMessagePayload): `{type: 'message', conversationId, messageId,
 * senderName, preview?, unreadTotal}`. Exposed on `self` so tests can call it without a push service.
 */
async function handlePush(payload) {
  if (payload?.type !== 'message' || typeof payload.conversationId !== 'string') return;
  if (typeof payload.unreadTotal === 'number' && 'setAppBadge' in self.navigator) {
    await self.navigator.setAppBadge(payload.unreadTotal).catch(() => {});
  }
  // A window on screen shows the message itself (and notifies through the page when hidden).
  const windows = await appWindows();
  if (windows.some((w) => w.focused || w.visibilityState === 'visible')) return;
  await self.registration.showNotification(payload.senderName || 'New message', {
    body: payload.preview ?? 'New message',
    // One notification per chat: a burst replaces rather than piles up.
    tag: payload.conversationId,
    renotify: true,
    data: { conversationId: payload.conversationId, messageId: payload.messageId },
    icon: '/icon.svg',
    badge: '/icon.svg',
  });
}

/** Focuses a window of the app and tells it to open the chat, or opens a new window on it. */
async function openChat(conversationId) {
  const windows = await appWindows();
  const target = windows.find((w) => w.focused) ?? windows.find((w) => w.visibilityState === 'visible') ?? windows[0];
  if (target) {
    target.postMessage({ type: 'open-chat', conversationId });
    // Allowed only in reaction to a notification click; a failed focus still leaves the chat open.
    await target.focus().catch(() => {});
    return 'focused';
  }
  await self.clients.openWindow(`/${conversationId ? chatHash(conversationId) : ''}`);
  return 'opened';
}

self.handlePush = handlePush;
self.openChat = openChat;

self.addEventListener('push', (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch {
    payload = null;
  }
  event.waitUntil(handlePush(payload));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const conversationId = event.notification.data?.conversationId;
  event.waitUntil(openChat(typeof conversationId === 'string' ? conversationId : ''));
});
