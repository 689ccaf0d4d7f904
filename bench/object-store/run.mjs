// bench/object-store: Swift API throughput and latency, printed as JSON, side by side for every
// target in one run (the same client, the same machine, one target after the other).
//
// Usage: node bench/object-store/run.mjs [--targets nubes,ref] [--seconds 10] [--large-mib 256]
//          [--large-runs 3] [--list-count 10000] [--tests put4k,get4k,large,list] [--out file.json]
//          [--client curl|node] [--replicas 1] [--ref-auth-url URL] [--ref-user U] [--ref-password P] [--ref-project P]
//
// Targets:
//   nubes  starts `nubes start` from this checkout on a free loopback port with a temp data dir
//          (on-disk object store, --replicas replicas, default 1 as the reference) and stops it.
//   ref    any running Keystone v3 + Swift v1 endpoint: by default the Debian Swift that
//          /work/shared/reference/perf/ref-up.sh swift starts (auth http://127.0.0.1:16000/v3,
//          user perf / perf-pw, project perf); the storage URL comes from the token's catalog.
//
// Tests (per target): put4k / get4k at concurrency 1 and 16 (req/s, p50/p99 ms; 256 objects are
// read round-robin), large: one --large-mib object PUT with its ETag then GET, single stream
// (MB/s = 10^6 bytes/s from request start to response end, median of --large-runs; with
// --client curl the body is sent from a file in the page cache and the GET goes to /dev/null, its
// content checked once, untimed, by a node GET), with a dd reference taken just before on the
// same disk (the temp dir): write with conv=fsync, read with iflag=direct (the disk) and from the
// page cache, and the ratios to them; list: a container of --list-count zero-byte objects
// (populated at c=16, timed), listed once untimed (entry count checked) then 9 times with
// format=json&limit=10000 (median and all runs).
// A smoke run: --seconds 1 --large-mib 16 --large-runs 1 --list-count 500.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, rssMiB, runLoad } from '../lib/load.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const seconds = Number(args.seconds ?? 10);
const largeMiB = Number(args['large-mib'] ?? 256);
const largeRuns = Number(args['large-runs'] ?? 3);
const listCount = Number(args['list-count'] ?? 10000);
const replicas = Number(args.replicas ?? 1);
// Client of the large transfers and the listings: curl (default) is a lean C client; node's http
// client costs more CPU on the two cores the server shares, which showed in large GETs (node
// ~0.37 GB/s where curl reads ~0.8-1 GB/s) and adds its own decoding to listing times.
const largeClient = args.client ?? 'curl';
const targets = (args.targets ?? 'nubes').split(',');
const tests = new Set((args.tests ?? 'put4k,get4k,large,list').split(','));
const adminPassword = 'bench-admin-pw';

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

function passwordAuth(user, password, project) {
  return { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } };
}

/** Token and storage URL (the public object-store endpoint of the token's catalog). */
async function login(authUrl, user, password, project) {
  const res = await request(`${authUrl}/auth/tokens`, { method: 'POST', body: passwordAuth(user, password, project) });
  if (res.status !== 201) throw new Error(`auth at ${authUrl}: ${res.status} ${res.body}`);
  const swift = JSON.parse(res.body).token.catalog.find((s) => s.type === 'object-store')?.endpoints.find((e) => e.interface === 'public')?.url;
  if (!swift) throw new Error('no object-store endpoint in the catalog');
  return { token: res.headers['x-subject-token'], swift };
}

async function startNubes() {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubes-bench-os-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bin', 'nubes.mjs'), 'start', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, '--admin-password', adminPassword, '--log-level', 'warn', '--set', 'log.access_log=false', '--object-replicas', String(replicas)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    const up = await request(`${url}/healthcheck`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (Date.now() - t0 > 60_000) throw new Error('nubes did not start in 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    authUrl: `${url}/identity/v3`,
    user: 'admin',
    password: adminPassword,
    project: 'admin',
    pid: child.pid,
    stop: () => new Promise((resolve) => { child.once('exit', resolve); process.kill(child.pid, 'SIGTERM'); }).then(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}

function targetSpec(name) {
  if (name === 'nubes') return startNubes();
  if (name === 'ref') return { authUrl: args['ref-auth-url'] ?? 'http://127.0.0.1:16000/v3', user: args['ref-user'] ?? 'perf', password: args['ref-password'] ?? 'perf-pw', project: args['ref-project'] ?? 'perf', stop: async () => undefined };
  throw new Error(`unknown target ${name} (nubes or ref)`);
}

/** Streams `size` bytes of a repeated random MiB; resolves to {status, ms}. */
function putLarge(url, token, chunk, size, etag) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', agent: false, headers: { 'x-auth-token': token, 'content-length': size, etag, 'content-type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * GETs into `sink` (allocated and touched before the clock starts, reused across runs, so the
 * client neither hashes nor keeps fresh socket buffers while timed); the MD5 is computed after.
 */
function getLarge(url, token, sink) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    http.get({ host: u.hostname, port: u.port, path: u.pathname, agent: false, headers: { 'x-auth-token': token } }, (res) => {
      res.on('data', (c) => { if (bytes + c.length <= sink.length) c.copy(sink, bytes); bytes += c.length; });
      res.on('end', () => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        // hashed once the clock has stopped: one core of MD5 is slower than the server can send
        const etag = createHash('md5').update(sink.subarray(0, Math.min(bytes, sink.length))).digest('hex');
        resolve({ status: res.statusCode, bytes, etag, ms });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** PUT or GET through curl (large objects, listings): {status, ms, bytes} from curl's own timing (file in the page cache, output to /dev/null). */
function curlLarge(method, url, token, file, etag) {
  const head = ['-s', '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{size_download}', '-H', `X-Auth-Token: ${token}`];
  const args = method === 'PUT' ? [...head, '-X', 'PUT', '-H', 'Expect:', '-H', `ETag: ${etag}`, '-H', 'Content-Type: application/octet-stream', '-T', file, url] : [...head, url];
  const out = spawnSync('curl', args, { encoding: 'utf8' });
  const [status, seconds, bytes] = (out.stdout ?? '').trim().split(' ').map(Number);
  if (out.status !== 0 || !status) throw new Error(`curl ${method} ${url}: ${out.stderr}`);
  return { status, ms: seconds * 1000, bytes };
}

/** One dd run: MB/s (10^6 bytes/s) from the byte count and seconds dd reports. */
function dd(args) {
  const out = spawnSync('dd', args, { encoding: 'utf8' });
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(out.stderr ?? '');
  if (out.status !== 0 || !m) throw new Error(`dd ${args.join(' ')}: ${out.stderr}`);
  return Number(m[1]) / 1e6 / Number(m[2]);
}

/**
 * What the disk under the temp dir (where `nubes` keeps its data) does with --large-mib bytes, as
 * the issue compares against: dd write with conv=fsync, read with iflag=direct (the disk, not
 * the page cache) and the same read from the page cache; medians of --large-runs.
 */
function ddReference() {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-bench-dd-'));
  const file = join(dir, 'dd.bin');
  const count = String(Math.max(1, Math.round(largeMiB / 4)));
  const write = [], direct = [], cached = [];
  try {
    for (let r = 0; r < largeRuns; r++) {
      write.push(dd(['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${count}`, 'conv=fsync']));
      direct.push(dd([`if=${file}`, 'of=/dev/null', 'bs=4M', 'iflag=direct']));
      cached.push(dd([`if=${file}`, 'of=/dev/null', 'bs=4M']));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { dir: tmpdir(), write_fsync_mb_s: round(median(write)), read_direct_mb_s: round(median(direct)), read_page_cache_mb_s: round(median(cached)), write_runs: write.map((v) => round(v)), read_direct_runs: direct.map((v) => round(v)) };
}

async function benchTarget(name) {
  const spec = await targetSpec(name);
  const { token, swift } = await login(spec.authUrl, spec.user, spec.password, spec.project);
  const auth = { 'x-auth-token': token };
  const out = { target: name, swift_url: swift, rates: [] };
  const container = `bench-${Date.now().toString(36)}`;
  const mkcontainer = async (c) => {
    const res = await request(`${swift}/${c}`, { method: 'PUT', headers: auth });
    if (res.status !== 201 && res.status !== 202) throw new Error(`PUT container ${c}: ${res.status}`);
  };
  await mkcontainer(container);
  const small = randomBytes(4096);
  if (tests.has('put4k')) {
    let n = 0;
    for (const concurrency of [1, 16]) {
      out.rates.push(await runLoad(`put4k-c${concurrency}`, () => ({ url: `${swift}/${container}/put-${n++}`, method: 'PUT', headers: auth, body: small, expect: 201 }), { concurrency, seconds }));
    }
  }
  if (tests.has('get4k')) {
    for (let i = 0; i < 256; i++) await request(`${swift}/${container}/get-${i}`, { method: 'PUT', headers: auth, body: small });
    let n = 0;
    for (const concurrency of [1, 16]) {
      out.rates.push(await runLoad(`get4k-c${concurrency}`, () => ({ url: `${swift}/${container}/get-${n++ % 256}`, headers: auth, expect: 200 }), { concurrency, seconds }));
    }
  }
  if (tests.has('large')) {
    const size = largeMiB * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const md5 = createHash('md5');
    for (let sent = 0; sent < size; sent += chunk.length) md5.update(chunk.subarray(0, Math.min(chunk.length, size - sent)));
    const etag = md5.digest('hex');
    // the reference right before the target's own runs, in the same minutes
    const ddRef = name === 'nubes' ? ddReference() : null;
    const sink = Buffer.alloc(size);
    const puts = [];
    const gets = [];
    let bodyFile = null;
    if (largeClient === 'curl') {
      bodyFile = join(mkdtempSync(join(tmpdir(), 'nubes-bench-body-')), 'body.bin');
      writeFileSync(bodyFile, Buffer.concat(Array.from({ length: Math.ceil(size / chunk.length) }, () => chunk)).subarray(0, size));
    }
    for (let r = 0; r < largeRuns; r++) {
      const url = `${swift}/${container}/large-${r}`;
      const put = bodyFile ? curlLarge('PUT', url, token, bodyFile, etag) : await putLarge(url, token, chunk, size, etag);
      if (put.status !== 201) throw new Error(`large PUT: ${put.status}`);
      puts.push(size / 1e6 / (put.ms / 1000));
      const got = bodyFile ? curlLarge('GET', url, token) : await getLarge(url, token, sink);
      if (got.status !== 200 || got.bytes !== size) throw new Error(`large GET: ${got.status}, ${got.bytes} bytes`);
      // curl's GET went to /dev/null: the content is checked once, untimed, by node
      const check = bodyFile && r === 0 ? await getLarge(url, token, sink) : got;
      if (check.etag !== undefined && check.etag !== etag) throw new Error('large GET: content differs');
      gets.push(size / 1e6 / (got.ms / 1000));
      await request(url, { method: 'DELETE', headers: auth });
    }
    if (bodyFile) rmSync(dirname(bodyFile), { recursive: true, force: true });
    out.large = { mib: largeMiB, runs: largeRuns, client: largeClient, put_mb_s: round(median(puts)), get_mb_s: round(median(gets)), put_runs: puts.map((v) => round(v)), get_runs: gets.map((v) => round(v)) };
    if (ddRef) {
      out.large.dd = ddRef;
      out.large.put_vs_dd_write = round(out.large.put_mb_s / ddRef.write_fsync_mb_s, 2);
      out.large.get_vs_dd_read_direct = round(out.large.get_mb_s / ddRef.read_direct_mb_s, 2);
      out.large.get_vs_dd_read_page_cache = round(out.large.get_mb_s / ddRef.read_page_cache_mb_s, 2);
    }
  }
  if (tests.has('list')) {
    const listContainer = `${container}-list`;
    await mkcontainer(listContainer);
    let next = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < listCount) {
        const i = next++;
        const res = await request(`${swift}/${listContainer}/obj-${String(i).padStart(6, '0')}`, { method: 'PUT', headers: auth, body: Buffer.alloc(0) });
        if (res.status !== 201) throw new Error(`populate: ${res.status}`);
      }
    }));
    const populate = listCount / ((Date.now() - t0) / 1000);
    const runs = [];
    const listUrl = `${swift}/${listContainer}?format=json&limit=10000`;
    // one untimed listing first (caches and JIT warm on both targets), which also checks the count
    const n = JSON.parse((await request(listUrl, { headers: auth })).body).length;
    if (n !== Math.min(listCount, 10000)) throw new Error(`listing returned ${n} entries`);
    for (let r = 0; r < 9; r++) {
      if (largeClient === 'curl') {
        const got = curlLarge('GET', listUrl, token);
        if (got.status !== 200) throw new Error(`listing: ${got.status}`);
        runs.push(got.ms);
        continue;
      }
      const t = process.hrtime.bigint();
      const res = await request(listUrl, { headers: auth });
      runs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (res.status !== 200) throw new Error(`listing: ${res.status}`);
    }
    out.list = { objects: listCount, client: largeClient, median_ms: round(median(runs), 2), runs_ms: runs.map((v) => round(v, 2)), populate_put_per_s: round(populate) };
  }
  if (spec.pid) out.rss_after_mib = await rssMiB(spec.pid);
  await spec.stop();
  return out;
}

const result = { bench: 'object-store', date: new Date().toISOString(), node: process.version, seconds_per_rate: seconds, nubes_replicas: replicas, loadavg_start: round(loadavg()[0], 2), targets: {} };
for (const t of targets) result.targets[t] = await benchTarget(t);
result.loadavg_end = round(loadavg()[0], 2);
const text = JSON.stringify(result, null, 2);
if (args.out) writeFileSync(args.out, text);
process.stdout.write(`${text}\n`);
