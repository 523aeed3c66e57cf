// A private nats-server for one benchmark run, for `--nats-sync=always`: the machine's shared NATS
// (127.0.0.1:4222) is Debian's 2.9.10 with its default fsync (writes reach the page cache, fsync every
// 2 minutes, PubAck before fsync) and is not ours to reconfigure. This one listens on a free port of
// 127.0.0.1, keeps its store in a fresh temp directory on the same disk, and runs the production file's
// JetStream durability (`sync_interval: always`, deploy/nats/nats-server.conf): every write is fsynced
// before its PubAck. Single node, R1, no authentication or TLS (loopback only). Debian 12's nats-server
// does not know `sync_interval`, so the binary is the >= 2.10 one the crash tests use
// (NATS_SERVER_BIN, else .cache/nats-server/nats-server, else scripts/fetch-nats-server.sh puts it there).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './server.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The nats-server >= 2.10 binary (fetched once into .cache/ when there is none). */
export function natsServerBin() {
  const cached = path.join(ROOT, '.cache/nats-server/nats-server');
  const bin = process.env.NATS_SERVER_BIN || cached;
  if (!process.env.NATS_SERVER_BIN && !fs.existsSync(cached)) {
    const res = spawnSync(path.join(ROOT, 'scripts/fetch-nats-server.sh'), [], { cwd: ROOT, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`scripts/fetch-nats-server.sh failed: ${res.stderr}`);
  }
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /v(\d+)\.(\d+)\./u.exec(out);
  if (!m || Number(m[1]) < 2 || (Number(m[1]) === 2 && Number(m[2]) < 10))
    throw new Error(`${bin} is not a nats-server >= 2.10 (${out.trim()}): sync_interval needs one`);
  return { bin, version: out.trim() };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the private server; `sync` is the `sync_interval` value ("always", or a duration such as
 * "2m"). Resolves when /healthz answers 200 and /varz confirms the setting; `stop()` ends it and
 * removes its store.
 */
export async function startPrivateNats({ sync = 'always' } = {}) {
  const { bin, version } = natsServerBin();
  const [port, monitorPort] = [await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nats-'));
  const storeDir = path.join(dir, 'jetstream');
  const conf = path.join(dir, 'nats-server.conf');
  // The production file's limits and JetStream durability; its cluster, TLS and accounts are left out.
  fs.writeFileSync(
    conf,
    [
      'server_name: bench-nats',
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      'max_payload: 1MB',
      'max_pending: 64MB',
      'write_deadline: "10s"',
      'jetstream {',
      `  store_dir: ${JSON.stringify(storeDir)}`,
      '  max_memory_store: 1GB',
      '  max_file_store: 50GB',
      `  sync_interval: ${sync === 'always' ? sync : JSON.stringify(sync)}`,
      '}',
      '',
    ].join('\n'),
  );
  const check = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8' });
  if (check.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`nats-server -t -c ${conf}: ${check.stdout}${check.stderr}`);
  }
  const logFile = path.join(dir, 'nats.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exit.then(() => (exited = true));
  // A bench that throws before its clean-up must not leave the server running.
  const orphan = () => !exited && child.kill('SIGKILL');
  process.once('exit', orphan);
  const monitor = async (p) => (await fetch(`http://127.0.0.1:${monitorPort}${p}`)).json();
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`private nats-server exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      if ((await fetch(`http://127.0.0.1:${monitorPort}/healthz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('private nats-server not healthy within 20 s');
    await sleep(100);
  }
  const js = (await monitor('/varz')).jetstream?.config ?? {};
  if (sync === 'always' && js.sync_always !== true) {
    child.kill('SIGTERM');
    throw new Error(`private nats-server does not report sync_always: ${JSON.stringify(js)}`);
  }
  log(
    `private NATS ${version} (pid ${child.pid}) at 127.0.0.1:${port}, sync_interval: ${sync} (varz sync_always ${js.sync_always === true}), store ${storeDir}`,
  );
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    version,
    sync,
    storeDir,
    monitor,
    async stop() {
      process.off('exit', orphan);
      if (!exited) child.kill('SIGTERM');
      await Promise.race([exit, sleep(10_000)]);
      if (!exited) child.kill('SIGKILL');
      await exit;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
