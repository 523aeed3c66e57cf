// Signed download URLs: an HMAC over the upload, the variant and the expiry, with a secret every
// process of the deployment shares. They work with no header (an <img src>) until they expire.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Variant = 'content' | 'thumbnail';

/** How long a URL works at least; expiries are rounded up to the hour so URLs (and caches) stay stable. */
export const URL_LIFETIME_MS = 24 * 3_600_000;
const ROUND_MS = 3_600_000;

export class UrlSigner {
  private readonly secret: Buffer;

  constructor(deps: { secret: string }) {
    this.secret = Buffer.from(deps.secret, 'base64url');
    if (this.secret.length < 32) throw new Error('the media URL secret must hold at least 32 bytes');
  }

  /** The path and query of a signed URL of `variant` of upload `id`. */
  url(id: string, variant: Variant, now = Date.now()): string {
    const exp = Math.ceil((now + URL_LIFETIME_MS) / ROUND_MS) * (ROUND_MS / 1000);
    return `/v1/uploads/${encodeURIComponent(id)}/${variant}?exp=${exp}&sig=${this.mac(id, variant, exp)}`;
  }

  /** Whether `sig` signs this upload, variant and expiry (`exp` in Unix seconds), and it has not passed. */
  verify(id: string, variant: Variant, exp: string, sig: string, now = Date.now()): boolean {
    if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false;
    const want = Buffer.from(this.mac(id, variant, Number(exp)));
    const got = Buffer.from(sig);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private mac(id: string, variant: Variant, exp: number): string {
    return createHmac('sha256', this.secret).update(`${id}\n${variant}\n${exp}`).digest('base64url');
  }
}
