// Throwaway TLS material for tests of deploy/nats/nats-server.conf's tls blocks, made with openssl.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes into `dir` a CA (ca.pem, ca-key.pem) and one certificate for 127.0.0.1 and localhost signed
 * by it, usable by servers and routes (both key usages): server.pem/server-key.pem, and the same pair
 * as route.pem/route-key.pem. The file names are the ones deploy/nats/nats-server.conf expects in
 * /etc/nats/tls/.
 */
export function certificates(dir: string): void {
  const run = (args: string[]) => {
    const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${res.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca']);
  run(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=nats']);
  fs.writeFileSync(
    path.join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial'].concat([
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    ]),
  );
  fs.copyFileSync(path.join(dir, 'server.pem'), path.join(dir, 'route.pem'));
  fs.copyFileSync(path.join(dir, 'server-key.pem'), path.join(dir, 'route-key.pem'));
}
