// The key that signs download URLs in embedded mode, made on first start and kept in
// DATA_DIR/media-secret.json (mode 0600), so links handed out survive a restart.
import { randomBytes } from 'node:crypto';
import { loadOrCreateJson } from './kept-file.js';

export function loadOrCreateMediaSecret(dataDir: string): string {
  const { file, parsed } = loadOrCreateJson(
    dataDir,
    'media-secret.json',
    () => `${JSON.stringify({ secret: randomBytes(32).toString('base64url') })}\n`,
  );
  const { secret } = parsed as { secret?: unknown };
  if (typeof secret !== 'string' || Buffer.from(secret, 'base64url').length < 32)
    throw new Error(`${file} does not hold a media URL secret; restore it or delete it (old links then stop working)`);
  return secret;
}
