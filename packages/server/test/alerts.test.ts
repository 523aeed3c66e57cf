// The operator's alert rules and dashboard (deploy/): promtool checks and unit-tests the rules, the
// rules and the dashboard query only series the server really exports, and a real Prometheus
// (Debian's prometheus package; .ci/run installs it) scrapes a running server and answers a query.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { serverForFile, tempDir, type TestServer, waitFor } from './harness.js';
import { freePort } from './process.js';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const RULES = path.join(DEPLOY, 'prometheus/alerts.yml');
const RULE_TESTS = path.join(DEPLOY, 'prometheus/alerts.test.yml');
const DASHBOARD = path.join(DEPLOY, 'grafana/messenger.json');

/** The parts of Prometheus's HTTP API answers (/api/v1/query, /api/v1/rules) the tests read. */
type PromVector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
type PromRules = { data: { groups: { rules: { name: string; health: string }[] }[] } };

function tool(name: string): string {
  for (const dir of ['/usr/bin', '/usr/local/bin']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${name} is missing: install Debian's prometheus package (apt-get install prometheus)`);
}

function promtool(...args: string[]): string {
  return execFileSync(tool('promtool'), args, { encoding: 'utf8', cwd: DEPLOY });
}

/** Metric names an expression reads, without the histogram suffixes Prometheus adds. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:messenger|process)_[a-z_]+)\b/g)].map((m) =>
    m[1]!.replace(/_(bucket|count|sum)$/, ''),
  );
}

async function exported(server: TestServer): Promise<Set<string>> {
  const names = new Set<string>();
  for (const url of server.processUrls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const m of text.matchAll(/^# TYPE (\S+) /gm)) names.add(m[1]!);
  }
  return names;
}

describe('alert rules and dashboard', () => {
  const server = serverForFile();

  it('pass promtool check and every alert unit test', () => {
    expect(promtool('check', 'rules', RULES)).toContain('SUCCESS: 9 rules found');
    expect(promtool('test', 'rules', RULE_TESTS)).toContain('SUCCESS');
    expect(promtool('check', 'config', path.join(DEPLOY, 'prometheus/prometheus.yml'))).toContain('SUCCESS');
  });

  it('has a unit test for every alert', () => {
    const alerts = parse(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g: { rules: { alert: string }[] }) =>
      g.rules.map((r) => r.alert),
    );
    const tested = new Set<string>(
      parse(fs.readFileSync(RULE_TESTS, 'utf8')).tests.flatMap((t: { alert_rule_test: { alertname: string }[] }) =>
        t.alert_rule_test.map((a) => a.alertname),
      ),
    );
    expect(alerts.filter((a: string) => !tested.has(a))).toEqual([]);
  });

  it('query only series the server exports', async () => {
    const names = await exported(server);
    const rules = parse(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g: { rules: { expr: string }[] }) =>
      g.rules.map((r) => r.expr),
    );
    const panels = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')).panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    const read = [...rules, ...panels].flatMap(metricNames);
    expect(read.length).toBeGreaterThan(10);
    expect([...new Set(read)].filter((n) => !names.has(n))).toEqual([]);
  });

  it('a real Prometheus scrapes the server, loads the rules and answers a query', async () => {
    const dir = tempDir('messenger-prometheus-');
    const port = await freePort();
    const targets = server.processUrls.map((u) => new URL(u).host);
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:',
        '  - job_name: messenger',
        `    static_configs: [{ targets: ${JSON.stringify(targets)} }]`,
      ].join('\n'),
    );
    const prometheus: ChildProcess = spawn(
      tool('prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
          () => null,
        );
        if (!res?.ok) return [];
        return ((await res.json()) as PromVector).data.result;
      };
      const up = await waitFor(
        'every target up',
        async () => {
          const r = await query('up{job="messenger"}');
          return r.length === targets.length && r.every((s) => s.value[1] === '1') ? r : null;
        },
        30_000,
      );
      expect(up.map((s) => s.metric.instance).sort()).toEqual([...targets].sort());
      const connections = await waitFor(
        'messenger_ws_connections',
        async () => {
          const r = await query('messenger_ws_connections');
          return r.length > 0 ? r : null;
        },
        15_000,
      );
      expect(Number(connections[0]!.value[1])).toBe(0);
      const rules = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules?type=alert`)).json()) as PromRules;
      const loaded = rules.data.groups.flatMap((g: { rules: { name: string; health: string }[] }) => g.rules);
      expect(loaded).toHaveLength(9);
      await waitFor(
        'every rule evaluated',
        async () => {
          const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules?type=alert`)).json()) as PromRules;
          const all = r.data.groups.flatMap((g: { rules: { health: string }[] }) => g.rules);
          return all.every((x: { health: string }) => x.health === 'ok') ? true : null;
        },
        15_000,
      );
    } finally {
      prometheus.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
