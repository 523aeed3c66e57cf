// The web client's pages carry the security headers the contract asks for (CSP, nosniff, Referrer-Policy).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from './harness.js';

let server: TestServer;

beforeAll(async () => {
  const webDir = tempDir('messenger-web-');
  fs.writeFileSync(
    path.join(webDir, 'index.html'),
    '<!doctype html><title>t</title><script type="module" src="/app.js"></script>',
  );
  fs.writeFileSync(path.join(webDir, 'app.js'), 'console.log(1)');
  server = await startTestServer({ webDir });
});

afterAll(async () => {
  await server?.close();
});

describe('headers of the web client', () => {
  it.each(['/', '/index.html', '/some/client/route'])(
    '%s is HTML with the CSP, nosniff and a referrer policy',
    async (p) => {
      const res = await fetch(server.url + p);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    },
  );

  it('scripts and API answers are not sniffed either', async () => {
    const script = await fetch(`${server.url}/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await fetch(`${server.url}/v1/me`);
    expect(api.status).toBe(401);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('content-security-policy')).toBeNull();
  });
});
