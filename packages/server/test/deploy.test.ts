// The deployment files in deploy/ are checked here, not only written: systemd accepts every unit
// (systemd-analyze verify, which prints what it ignores), each unit runs known roles, and the example
// settings file is one the server's own configuration loader accepts, with every variable documented.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_ROLES, loadConfig } from '../src/config/config.js';
import { tempDir } from './harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNITS = path.join(ROOT, 'deploy/systemd');
const ENV_EXAMPLE = path.join(ROOT, 'deploy/messenger.env.example');

/** What systemd-analyze says of the units (it exits 0 on unknown keys and bad values, and prints them). */
function verify(dir: string): string {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.service') && !f.endsWith('@.service'))
    .map((f) => path.join(dir, f));
  const out = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8' });
  if (out.error) throw out.error;
  return `${out.stdout}${out.stderr}`;
}

/** The units as installed: templates get an instance (messenger-gateway@8081.service). */
function installed(from: string): string {
  const dir = tempDir('messenger-units-');
  for (const f of fs.readdirSync(from)) {
    fs.copyFileSync(path.join(from, f), path.join(dir, f));
    if (f.endsWith('@.service')) fs.copyFileSync(path.join(from, f), path.join(dir, f.replace('@.', '@8081.')));
  }
  return dir;
}

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

describe('deployment files', () => {
  it('systemd accepts every unit, and would say so if one were wrong', () => {
    const dir = installed(UNITS);
    expect(verify(dir)).toBe('');
    const unit = path.join(dir, 'messenger-persister.service');
    fs.writeFileSync(unit, fs.readFileSync(unit, 'utf8').replace('Restart=always', 'Restart=alwayz'));
    expect(verify(dir)).toContain('alwayz');
  });

  it('each cluster unit runs one known role, and together they run all of them', () => {
    const roles = fs
      .readdirSync(UNITS)
      .filter((f) => f !== 'messenger.service')
      .flatMap((f) =>
        [...fs.readFileSync(path.join(UNITS, f), 'utf8').matchAll(/\bROLES=([a-z,]+)/g)].map((m) => m[1]!),
      );
    expect(roles.every((r) => (ALL_ROLES as readonly string[]).includes(r))).toBe(true);
    expect([...new Set(roles)].sort()).toEqual([...ALL_ROLES].sort());
    // The embedded unit runs every role: it sets no ROLES.
    expect(fs.readFileSync(path.join(UNITS, 'messenger.service'), 'utf8')).not.toMatch(/\bROLES=/);
  });

  it('the example settings load and every one of them is documented', () => {
    const env = parseEnvFile(fs.readFileSync(ENV_EXAMPLE, 'utf8'));
    expect(Object.keys(env).length).toBeGreaterThan(5);
    const config = loadConfig(env);
    expect(config.host).toBe('0.0.0.0');
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
    const api = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
    expect(Object.keys(env).filter((k) => !api.includes(`\`${k}\``))).toEqual([]);
  });
});
