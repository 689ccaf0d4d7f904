// A small closed-loop HTTP load generator: N clients, each sending the next request as soon as the
// previous one finished, for a fixed duration. Loopback only; bounded by time and by count.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// keepAlive: false opens a connection per request (for servers such as uWSGI's http-socket that
// close idle keep-alive sockets and so reset pooled ones).
export function request(url, { method = 'GET', headers = {}, body, keepAlive = true } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    // A Buffer body is sent as it is (object bodies); anything else as JSON.
    const raw = Buffer.isBuffer(body);
    const payload = body === undefined ? undefined : raw ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: keepAlive ? agent : false, headers: { ...headers, ...(keepAlive ? {} : { connection: 'close' }), ...(payload ? { ...(raw ? {} : { 'content-type': 'application/json' }), 'content-length': payload.length } : {}) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/** Runs `makeRequest()` (returns {url, method, headers, body, expect}) with `concurrency` clients for `seconds`. */
export async function runLoad(name, makeRequest, { concurrency = 1, seconds = 5, warmupSeconds = 1, maxRequests = 1_000_000 } = {}) {
  const run = async (durationMs, record) => {
    const latencies = [];
    let errors = 0;
    let count = 0;
    const end = Date.now() + durationMs;
    const client = async () => {
      while (Date.now() < end && count < maxRequests) {
        count++;
        const spec = makeRequest();
        const t0 = process.hrtime.bigint();
        try {
          const res = await request(spec.url, spec);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (res.status !== spec.expect) errors++;
          else latencies.push(ms);
        } catch {
          errors++;
        }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: concurrency }, client));
    const elapsed = (Date.now() - t0) / 1000;
    if (!record) return null;
    latencies.sort((a, b) => a - b);
    return {
      test: name,
      concurrency,
      seconds: Math.round(elapsed * 100) / 100,
      requests: latencies.length,
      errors,
      req_per_s: Math.round((latencies.length / elapsed) * 10) / 10,
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
    };
  };
  if (warmupSeconds > 0) await run(warmupSeconds * 1000, false);
  return run(seconds * 1000, true);
}

const round = (v) => (v === null ? null : Math.round(v * 100) / 100);

/** VmRSS of a process and its descendants, in MiB. */
export async function rssMiB(pid) {
  const { readFileSync, readdirSync } = await import('node:fs');
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // process vanished
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) total += Number(m[1]);
    } catch {
      // gone
    }
    stack.push(...(children.get(p) ?? []));
  }
  return Math.round((total / 1024) * 10) / 10;
}
