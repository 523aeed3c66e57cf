// The server's VAPID key pair (RFC 8292), made on first start and kept in DATA_DIR/vapid.json
// (mode 0600). Losing it orphans every browser subscription, so a damaged file stops the start.
import webpush from 'web-push';
import { loadOrCreateJson } from '../disk/kept-file.js';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: what browsers get as applicationServerKey. */
  publicKey: string;
  /** The 32-byte private scalar, base64url. */
  privateKey: string;
}

export function loadOrCreateVapidKeys(dataDir: string): VapidKeys {
  const { file, parsed } = loadOrCreateJson(dataDir, 'vapid.json', () => {
    const keys = webpush.generateVAPIDKeys();
    return `${JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey }, null, 2)}\n`;
  });
  const { publicKey, privateKey } = parsed as Partial<VapidKeys>;
  const ok = (v: unknown, bytes: number) => typeof v === 'string' && Buffer.from(v, 'base64url').length === bytes;
  if (!ok(publicKey, 65) || !ok(privateKey, 32))
    throw new Error(
      `${file} does not hold a VAPID key pair; restore it or delete it (existing push subscriptions then stop working)`,
    );
  return { publicKey: publicKey!, privateKey: privateKey! };
}
