// A web site of the test file's own on 127.0.0.1, for what the server fetches from the web (link
// previews and their images, with LINK_PREVIEW_ALLOWED_HOSTS=127.0.0.1): started before the file's
// tests, closed after them; and a message whose link the server reads.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { online } from './fixtures.js';
import { sendHttp, type TestUser } from './http.js';

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

/**
 * `from` sends `body` to `chat` over HTTP; answers the message with its link preview as `to`'s
 * socket on the last gateway hears it (message.updated), waiting up to `timeoutMs`.
 */
export async function sendForPreview(
  server: { readonly urls: string[] },
  [from, to]: [TestUser, TestUser],
  chat: string,
  body: string,
  timeoutMs = 10_000,
): Promise<any> {
  const [socket] = await online(server.urls.at(-1)!, to);
  try {
    const sent = await sendHttp(from, chat, body);
    const updated = await socket.waitForEvent(
      'message.updated',
      (e) => e.message.id === sent.id && e.message.linkPreview,
      timeoutMs,
    );
    return updated.message;
  } finally {
    socket.close();
  }
}
