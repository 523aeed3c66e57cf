// Shared by the web e2e tests and the screenshot script: a real server process and headless Chromium.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CLUSTER, deploymentEnv, dropDeployment } from '../../server/test/deployment.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const WEB_DIR = path.join(ROOT, 'packages/web/dist');
const SERVER_MAIN = path.join(ROOT, 'packages/server/dist/main.js');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function assertBuilt() {
  if (!fs.existsSync(path.join(WEB_DIR, 'index.html'))) {
    throw new Error(
      `packages/web/dist/index.html is missing: run \`npm run build\` at the repository root (or \`npx vite build\` in packages/web) first`,
    );
  }
  if (!fs.existsSync(SERVER_MAIN))
    throw new Error('packages/server/dist/main.js is missing: run `npm run build` at the repository root first');
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}

/** @returns {Promise<number>} */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** The real server as a child process; stop() and start() again on the same port and data dir to test restarts. */
export class ServerProcess {
  /** @type {import('node:child_process').ChildProcess | null} */
  #proc = null;
  #log = '';

  /**
   * @param {number} port @param {string} dataDir
   * @param {Record<string, string>} [env] more environment for the process, on every start
   */
  constructor(port, dataDir, env = {}) {
    this.port = port;
    this.dataDir = dataDir;
    this.env = env;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** @param {Record<string, string>} [env] @returns {Promise<ServerProcess>} */
  static async start(env = {}) {
    const server = new ServerProcess(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'messenger-web-')), env);
    await server.start();
    return server;
  }

  async start() {
    const proc = spawn(process.execPath, [SERVER_MAIN], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATA_DIR: this.dataDir,
        RATE_LIMIT_SIGNUPS: '0',
        RATE_LIMIT_MESSAGES: '0',
        WEB_DIR,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        // MESSENGER_TEST_BACKEND=cluster: one process with every role, on a deployment of its own.
        ...(CLUSTER ? deploymentEnv(this.dataDir) : {}),
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#proc = proc;
    /** @param {Buffer} chunk */
    const keep = (chunk) => {
      this.#log = (this.#log + chunk.toString()).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${this.#log}`);
      const healthy = await fetch(`${this.url}/healthz`).then(
        (res) => res.ok,
        () => false, // not listening yet
      );
      if (healthy) return await this.#checkBackend();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not become healthy within 20 s:\n${this.#log}`);
  }

  /** The backend under test is the one asked for: /readyz names the services it runs on. */
  async #checkBackend() {
    const { checks } = await (await fetch(`${this.url}/readyz`)).json();
    const expected = CLUSTER ? 'blobs,nats,postgres,redis' : 'sqlite';
    if (Object.keys(checks).sort().join(',') !== expected)
      throw new Error(`expected a server on ${expected}, got ${JSON.stringify(checks)}`);
  }

  /** SIGKILL by default: a crash, not a drain. @param {NodeJS.Signals} signal */
  async stop(signal = 'SIGKILL') {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  }

  async dispose() {
    await this.stop('SIGTERM');
    if (CLUSTER) await dropDeployment(this.dataDir);
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  get log() {
    return this.#log;
  }

  /**
   * Direct API calls, for a third user or a send that bypasses the UI.
   * @param {string} method @param {string} urlPath @param {string | null} apiKey @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async api(method, urlPath, apiKey, body) {
    const res = await fetch(this.url + urlPath, {
      method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** @param {string[]} [args] Chromium's command line, in place of the usual one */
export async function launchBrowser(args = BROWSER_ARGS) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** @param {import('playwright-core').Browser} browser @param {string} baseUrl */
export async function newUserPage(
  browser,
  baseUrl,
  viewport = { width: 1280, height: 800 },
  colorScheme = /** @type {'light' | 'dark'} */ ('light'),
) {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, colorScheme });
  const page = await context.newPage();
  return { context, page };
}

/** The password the tests sign up with unless they pass their own. */
export const PASSWORD = 'correct horse battery';

/**
 * Signs up through the UI and waits for the chat list.
 * @param {import('playwright-core').Page} page @param {string} username @param {string} displayName
 */
export async function signUp(page, username, displayName, password = PASSWORD) {
  await page.goto('/');
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByRole('textbox', { name: 'Display name' }).fill(displayName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Chats' }).waitFor();
}

/**
 * Signs in through the UI (another device of an existing account) and waits for the chat list.
 * @param {import('playwright-core').Page} page @param {string} username
 */
export async function signIn(page, username, password = PASSWORD) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in instead' }).click();
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Chats' }).waitFor();
}

/**
 * The page's Bearer credential, for direct API calls as its user: the session token it signed in
 * with (or an API key it was given).
 * @param {import('playwright-core').Page} page @returns {Promise<string>}
 */
export async function apiKeyOf(page) {
  return page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem('messenger.session') ?? '{}');
    return session.token ?? session.apiKey;
  });
}

/**
 * Collects what the page's Content-Security-Policy refused (Chromium reports it on the console).
 * @param {import('playwright-core').Page} page @returns {string[]}
 */
export function cspViolations(page) {
  /** @type {string[]} */
  const refused = [];
  page.on('console', (m) => {
    if (/Refused to|Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  return refused;
}

/** @param {import('playwright-core').Page} page @param {string} username */
export async function startDirectChat(page, username) {
  await page.getByRole('button', { name: 'New chat' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Username' }).fill(username);
  await dialog.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** @param {import('playwright-core').Page} page @param {string} text */
export async function sendMessage(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}
