// The server's VAPID key pair (RFC 8292), made on first start and kept in DATA_DIR/vapid.json
// (mode 0600). Losing it orphans every browser subscription, so a damaged file stops the start.
import fs from 'node:fs';
import path from 'node:path';
import webpush from 'web-push';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: what browsers get as applicationServerKey. */
  publicKey: string;
  /** The 32-byte private scalar, base64url. */
  privateKey: string;
}

export function loadOrCreateVapidKeys(dataDir: string): VapidKeys {
  const file = path.join(dataDir, 'vapid.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const keys = webpush.generateVAPIDKeys();
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey }, null, 2)}\n`, {
      mode: 0o600,
    });
    try {
      // link() fails if another process made the file meanwhile: theirs wins, and readers never see half a file.
      fs.linkSync(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VapidKeys>;
  const ok = (v: unknown, bytes: number) => typeof v === 'string' && Buffer.from(v, 'base64url').length === bytes;
  if (!ok(parsed.publicKey, 65) || !ok(parsed.privateKey, 32))
    throw new Error(
      `${file} does not hold a VAPID key pair; restore it or delete it (existing push subscriptions then stop working)`,
    );
  return { publicKey: parsed.publicKey!, privateKey: parsed.privateKey! };
}
