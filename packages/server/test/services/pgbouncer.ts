// A private PgBouncer (Debian's pgbouncer package) in transaction mode in front of a PostgreSQL:
// what a deployment with DATABASE_POOLER=pgbouncer runs behind. Its pools are small, so the
// server's connections really share server connections from one transaction to the next.
//
// Clients log in as any role the PostgreSQL has (trust, each looked up with auth_query as the
// PostgreSQL URL's own user): a test deployment connects as a role of its own, whose search_path
// names its schema (deployment.mjs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../harness/wait.js';
import { Proc, tcpOpen } from './proc.js';

function pgbouncerBin(): string {
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (fs.existsSync('/usr/sbin/pgbouncer')) return '/usr/sbin/pgbouncer';
  throw new Error('no pgbouncer (apt-get install pgbouncer)');
}

export class PgBouncerService extends Proc {
  private readonly upstream: URL;

  /** `postgresUrl`: the PostgreSQL it pools, as a superuser (auth_query reads pg_shadow). */
  constructor(
    readonly port: number,
    readonly dir: string,
    postgresUrl: string,
    /** Server connections per database and role. */
    readonly poolSize = 4,
  ) {
    super('pgbouncer', path.join(dir, 'pgbouncer.log'));
    this.upstream = new URL(postgresUrl);
  }

  get database(): string {
    return this.upstream.pathname.slice(1);
  }

  /** The URL that reaches the pooled database (as `role`). */
  url(role?: string): string {
    return `postgres://${role ? `${encodeURIComponent(role)}@` : ''}127.0.0.1:${this.port}/${this.database}`;
  }

  async start(): Promise<void> {
    const admin = decodeURIComponent(this.upstream.username);
    const host = this.upstream.hostname === 'localhost' ? '127.0.0.1' : this.upstream.hostname;
    const config = path.join(this.dir, 'pgbouncer.ini');
    const users = path.join(this.dir, 'users.txt');
    fs.writeFileSync(users, `"${admin}" ""\n`);
    const settings: Record<string, string | number> = {
      listen_addr: '127.0.0.1',
      listen_port: this.port,
      unix_socket_dir: '',
      pidfile: '',
      auth_type: 'trust',
      auth_file: users,
      auth_user: admin,
      pool_mode: 'transaction',
      default_pool_size: this.poolSize,
      max_client_conn: 2000,
      max_db_connections: 0,
      ignore_startup_parameters: 'extra_float_digits',
      admin_users: admin,
      log_connections: 0,
      log_disconnections: 0,
    };
    const ini = [
      '[databases]',
      `${this.database} = host=${host} port=${this.upstream.port || 5432} dbname=${this.database}`,
      '[pgbouncer]',
      // An empty value ('unix_socket_dir =') turns the setting off.
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`.trimEnd()),
    ];
    fs.writeFileSync(config, `${ini.join('\n')}\n`);
    // PgBouncer refuses to run as root: it then switches to the `postgres` OS user (-u), which must
    // read its files.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      fs.chmodSync(this.dir, 0o755);
      fs.chmodSync(config, 0o644);
      fs.chmodSync(users, 0o644);
    }
    this.spawn(pgbouncerBin(), [...(asRoot ? ['-u', 'postgres'] : []), config], { cwd: '/' });
    await waitFor(
      'pgbouncer',
      async () => {
        if (!this.running) throw new Error(`pgbouncer died: ${this.tail()}`);
        return tcpOpen(this.port);
      },
      10_000,
    );
  }
}
