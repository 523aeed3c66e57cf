// The key that signs download URLs in embedded mode, made on first start and kept in
// DATA_DIR/media-secret.json (mode 0600), so links handed out survive a restart.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function loadOrCreateMediaSecret(dataDir: string): string {
  const file = path.join(dataDir, 'media-secret.json');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ secret: randomBytes(32).toString('base64url') })}\n`, { mode: 0o600 });
    try {
      // link() fails if another process made the file meanwhile: theirs wins.
      fs.linkSync(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { secret?: unknown };
  if (typeof parsed.secret !== 'string' || Buffer.from(parsed.secret, 'base64url').length < 32)
    throw new Error(`${file} does not hold a media URL secret; restore it or delete it (old links then stop working)`);
  return parsed.secret;
}
