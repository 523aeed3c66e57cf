// Uploads during a message load: ten parallel 100 MiB uploads while the socket benchmark's
// messages flow, then ranged downloads of them. Reports upload and download MB/s, the gateway's
// RSS growth during the uploads (from its /metrics), and the messages' p99 with and without them.
//   node bench/run.js uploads --rate=2000 --duration=25              with the uploads
//   node bench/run.js uploads --rate=2000 --duration=25 --uploads=false   the same load without them
import http from 'node:http';
import { fmt } from './lib/hist.js';
import { client } from './lib/http.js';
import { socketBench } from './socket.js';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const MiB = 1024 * 1024;

export async function uploadsBench(opts) {
  const withUploads = opts.uploads !== false;
  const report = await socketBench({
    ...opts,
    connections: opts.connections ?? 1000,
    rate: opts.rate ?? 2000,
    duration: opts.duration ?? 25,
    during: withUploads ? uploadLoad(opts) : undefined,
  });
  for (const p of report.phases) {
    const d = p.during;
    log(
      `\nUPLOADS RESULT (${withUploads ? 'with' : 'without'} the uploads): messages ${p.sendRate.toFixed(0)}/s e2e p50 ${fmt(p.e2e.p50)} ms p99 ${fmt(p.e2e.p99)} ms` +
        (d
          ? ` | ${d.count} x ${d.sizeMiB} MiB uploads: ${d.ok} ok in ${(d.uploadMs / 1000).toFixed(1)} s = ${d.uploadMBps.toFixed(0)} MB/s, ` +
            `ranged downloads ${d.rangeMBps.toFixed(0)} MB/s (${d.ranges} x ${d.rangeMiB} MiB), ` +
            `gateway RSS ${d.rssBeforeMiB.toFixed(0)} -> peak ${d.rssPeakMiB.toFixed(0)} MiB (growth ${(d.rssPeakMiB - d.rssBeforeMiB).toFixed(0)} MiB)`
          : ''),
    );
  }
  return report;
}

/**
 * Streams `size` bytes (a 1 MiB pattern, repeated) as one upload; answers the upload or throws.
 * Each `seed` gives other bytes: ten copies of one file would share one content-addressed object
 * (and one key lock), which ten different files do not.
 */
function uploadOne(base, token, size, name, seed) {
  const pattern = Buffer.alloc(MiB);
  for (let i = 0; i < pattern.length; i++) pattern[i] = ((i * 2654435761) >>> 24) ^ (seed & 0xff);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: '/v1/uploads',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': size,
          'x-filename': encodeURIComponent(name),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
          if (res.statusCode === 201) resolve(json.upload);
          else reject(new Error(`upload answered ${res.statusCode} ${JSON.stringify(json)}`));
        });
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(pattern.length, size - sent);
        sent += n;
        if (!req.write(n === pattern.length ? pattern : pattern.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Reads one range of a signed URL; answers the bytes received. */
function readRange(base, url, start, end) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: base.hostname, port: base.port, path: url, headers: { range: `bytes=${start}-${end}` } },
      (res) => {
        let n = 0;
        res.on('data', (c) => {
          n += c.length;
        });
        res.on('end', () =>
          res.statusCode === 206 ? resolve(n) : reject(new Error(`range answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
  });
}

async function rssMiB(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^process_resident_memory_bytes (\d+)/m.exec(text);
  return m ? Number(m[1]) / MiB : Number.NaN;
}

function uploadLoad(opts) {
  const count = opts.count ?? 10;
  const sizeMiB = opts.sizeMib ?? 100;
  const rangeMiB = opts.rangeMib ?? 8;
  let token = '';
  return {
    async prepare(url) {
      const api = client(url);
      const r = await api.request('POST', '/v1/users', { body: { username: `up${Date.now().toString(36)}` } });
      api.close();
      if (r.status !== 201) throw new Error(`sign-up failed: ${r.status}`);
      token = r.json.apiKey;
    },
    async run(url, startAt, durationMs) {
      const base = new URL(url);
      // Start a few seconds into the phase, so the messages' latency is measured before and during.
      const lead = Math.min(3000, durationMs / 5);
      await new Promise((r) =>
        setTimeout(r, Math.max(0, startAt + lead - (performance.timeOrigin + performance.now()))),
      );
      const rssBeforeMiB = await rssMiB(url);
      let rssPeakMiB = rssBeforeMiB;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          rssPeakMiB = Math.max(rssPeakMiB, await rssMiB(url).catch(() => 0));
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const t0 = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: count }, (_, i) => uploadOne(base, token, sizeMiB * MiB, `bench-${i}.bin`, i + 1)),
      );
      const uploadMs = performance.now() - t0;
      const uploads = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      for (const r of results) if (r.status === 'rejected') log(`upload failed: ${r.reason.message}`);
      // Ranged downloads: each upload read as ranges, the uploads in parallel.
      const r0 = performance.now();
      let bytes = 0;
      let ranges = 0;
      await Promise.all(
        uploads.map(async (u) => {
          for (let at = 0; at + rangeMiB * MiB <= u.size; at += rangeMiB * MiB * 4) {
            bytes += await readRange(base, u.url, at, at + rangeMiB * MiB - 1);
            ranges++;
          }
        }),
      );
      const rangeMs = performance.now() - r0;
      sampling = false;
      await sampler;
      return {
        count,
        sizeMiB,
        ok: uploads.length,
        uploadMs,
        uploadMBps: (uploads.length * sizeMiB * MiB) / 1e6 / (uploadMs / 1000),
        rangeMiB,
        ranges,
        rangeMBps: bytes / 1e6 / (rangeMs / 1000),
        rssBeforeMiB,
        rssPeakMiB,
      };
    },
  };
}
