// A web site of the test file's own on 127.0.0.1, for what the server fetches from the web (link
// previews and their images, with LINK_PREVIEW_ALLOWED_HOSTS=127.0.0.1): started before the file's
// tests, closed after them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface TestSite {
  /** http://127.0.0.1:port */
  origin: string;
  port: number;
  /** The paths asked for so far, in order; a test may start it afresh. */
  hits: string[];
}

export function siteForFile(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): TestSite {
  const site: TestSite = { origin: '', port: 0, hits: [] };
  const pages = http.createServer((req, res) => {
    site.hits.push(req.url ?? '');
    handle(req, res);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    site.port = (pages.address() as AddressInfo).port;
    site.origin = `http://127.0.0.1:${site.port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => pages.close(resolve));
  });
  return site;
}
