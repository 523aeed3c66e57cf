// Choices remembered per user in this browser, for what the server does not report back.

const presenceKey = (userId: string) => `messenger.presenceVisible.${userId}`;

export function readPresenceVisible(userId: string): boolean {
  try {
    return localStorage.getItem(presenceKey(userId)) !== 'false';
  } catch {
    return true;
  }
}

export function writePresenceVisible(userId: string, visible: boolean): void {
  try {
    localStorage.setItem(presenceKey(userId), String(visible));
  } catch {
    // No storage: the server still has the setting.
  }
}
