// The one catalog of NATS names this server uses: log streams and subjects, gateway subjects.

/** One subject token from any id: characters outside [A-Za-z0-9_-] (dots, spaces, wildcards) become ~hex. */
export function token(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/gu, (c) => `~${c.codePointAt(0)!.toString(16)}~`);
}

/**
 * FNV-1a over UTF-16 code units. It decides which partition owns a conversation, so it must never
 * change, and neither may the partition count of an existing log (that would reorder conversations).
 */
export function partitionOf(conversationId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < conversationId.length; i++) {
    hash ^= conversationId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** Stream names may not hold dots or wildcards; the prefix is validated by the log on open. */
export const logStream = (prefix: string, partition: number): string => `${prefix.toUpperCase()}_${partition}`;
export const logSubject = (prefix: string, partition: number, conversationId: string): string =>
  `${prefix}.${partition}.${token(conversationId)}`;
export const logSubjects = (prefix: string, partition: number): string => `${prefix}.${partition}.>`;

export const gatewaySubject = (gatewayId: string): string => `gw.${token(gatewayId)}`;
/** Where any process asks every gateway of one deployment to have its clients catch up. */
export const resyncSubject = (scope: string): string => `gw-resync.${token(scope)}`;
/** Where any gateway tells every gateway of one deployment that credentials were revoked. */
export const revocationSubject = (scope: string): string => `revoked.${token(scope)}`;
