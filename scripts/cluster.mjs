#!/usr/bin/env node
// `npm run cluster`: a local cluster against this machine's PostgreSQL, NATS JetStream and Redis:
// two gateways and one worker process (persister, fan-out, notifier). Ctrl-C stops all of them.
// Uploaded files go to the S3 storage named by S3_* in the environment; without S3_BUCKET this
// starts s3rver (an S3-protocol server in Node) on CLUSTER_S3_PORT, keeping files in CLUSTER_S3_DIR.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
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
const s3Port = Number(process.env.CLUSTER_S3_PORT ?? 8098);
const s3Dir = process.env.CLUSTER_S3_DIR ?? fileURLToPath(new URL('../data/cluster-s3', import.meta.url));

/** Object storage for uploads: the environment's, or a local s3rver. */
async function ensureObjectStorage() {
  if (process.env.S3_BUCKET) return;
  const { default: S3rver } = await import('s3rver');
  fs.mkdirSync(s3Dir, { recursive: true });
  await new S3rver({ port: s3Port, address: '127.0.0.1', silent: true, directory: s3Dir }).run();
  Object.assign(base, {
    S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    S3_BUCKET: 'messenger-uploads',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
  });
}

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
await ensureObjectStorage();
start('worker', { PORT: String(workerPort), ROLES: 'persister,fanout,notifier' });
await waitReady(`http://127.0.0.1:${workerPort}`);
for (const port of gatewayPorts) start(`gateway :${port}`, { PORT: String(port), ROLES: 'gateway' });
await Promise.all(gatewayPorts.map((port) => waitReady(`http://127.0.0.1:${port}`)));
console.log('\nMessenger cluster is running:');
for (const port of gatewayPorts) console.log(`  gateway  http://127.0.0.1:${port}`);
console.log(`  workers  http://127.0.0.1:${workerPort}/metrics (persister, fanout, notifier)`);
console.log(`  backing  ${base.DATABASE_URL}  ${base.NATS_URL}  ${base.REDIS_URL}`);
console.log(
  `  uploads  ${base.S3_ENDPOINT ?? process.env.S3_ENDPOINT ?? 'AWS S3'} bucket ${base.S3_BUCKET ?? process.env.S3_BUCKET}\n`,
);

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 11_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() =>
    process.exit(0),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
