// The server process and the headless Chromium of a browser test file: started before its first
// test (once the build is there), closed after its last. The handles read through to them, so the
// tests use them as the server and the browser themselves; the file's own beforeAll hooks run after
// both have started.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { assertBuilt, launchBrowser, ServerProcess } from './harness.mjs';

export function webForFile(
  options: {
    /** More environment for the server process. */
    env?: Record<string, string>;
    /** Chromium's command line, in place of the usual one. */
    browserArgs?: string[];
  } = {},
): { server: ServerProcess; browser: Browser } {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    assertBuilt();
    server = await ServerProcess.start(options.env);
    browser = await launchBrowser(options.browserArgs);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });
  return { server: readThrough(() => server), browser: readThrough(() => browser) };
}

/** A stand-in for what `current` returns once beforeAll has made it, methods bound to it. */
function readThrough<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = current();
      if (!target) throw new Error("the test file's server and browser start in beforeAll");
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
