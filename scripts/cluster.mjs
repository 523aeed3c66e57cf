#!/usr/bin/env node
// `npm run cluster`: a local cluster against this machine's PostgreSQL, NATS JetStream and Redis:
// two gateways and one worker process (persister, fan-out, notifier). Ctrl-C stops all of them.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import pg from 'pg';

const main = fileURLToPath(new URL('../packages/server/dist/main.js', import.meta.url));
const database = process.env.CLUSTER_DATABASE ?? 'messenger';
const adminUrl = process.env.CLUSTER_ADMIN_URL ?? 'postgres://127.0.0.1:5432/postgres';
const base = {
  DATABASE_URL: process.env.DATABASE_URL ?? `postgres://127.0.0.1:5432/${database}`,
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};
const gatewayPorts = (process.env.CLUSTER_PORTS ?? '8081,8082').split(',').map(Number);
const workerPort = Number(process.env.CLUSTER_WORKER_PORT ?? 8090);

async function ensureDatabase() {
  if (process.env.DATABASE_URL) return;
  // A URL without a user means the OS user (as the server does), even where $USER is unset.
  const url = new URL(adminUrl);
  if (!url.username) url.username = process.env.PGUSER ?? os.userInfo().username;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  await client.end();
}

const children = [];
function start(name, env) {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...base, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    console.error(`[cluster] ${name} exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

async function waitReady(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

await ensureDatabase();
start('worker', { PORT: String(workerPort), ROLES: 'persister,fanout,notifier' });
await waitReady(`http://127.0.0.1:${workerPort}`);
for (const port of gatewayPorts) start(`gateway :${port}`, { PORT: String(port), ROLES: 'gateway' });
await Promise.all(gatewayPorts.map((port) => waitReady(`http://127.0.0.1:${port}`)));
console.log('\nMessenger cluster is running:');
for (const port of gatewayPorts) console.log(`  gateway  http://127.0.0.1:${port}`);
console.log(`  workers  http://127.0.0.1:${workerPort}/metrics (persister, fanout, notifier)`);
console.log(`  backing  ${base.DATABASE_URL}  ${base.NATS_URL}  ${base.REDIS_URL}\n`);

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 11_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() =>
    process.exit(0),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
