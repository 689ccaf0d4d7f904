// bench/image: image data throughput through the real server next to `dd` on the same disk, and
// image-list latency with thousands of images, printed as JSON. Loopback only.
// Usage: node bench/image/run.mjs [--size-mib 1024] [--runs 1] [--stores file] [--backends file:file,swift:swift]
//        [--images 5000] [--list-seconds 5] [--dir /path/on/the/disk] [--db postgres://...] [--skip data,download,list] [--out file.json]
//        [--client curl|node] [--bundle a.cjs,b.cjs] [--cpu-prof dir]
// --client: curl (default: `curl -T` from a file in the page cache, a lean client) or node's http client
// (costs more CPU on the cores the server shares). --bundle: run servers from these builds of
// dist/nubes.cjs (default: bin/nubes.mjs); with several, each round measures every one right after
// dd, so A/B comparisons share the same minutes of a shared machine. --cpu-prof: V8 profiles of
// the server's threads into dir. Each upload/download reports the server's CPU seconds per GiB
// (main thread, other threads) and the client's, from /proc.
// --stores: store ids to measure (sent as X-Image-Meta-Store); --backends sets image.enabled_backends
// when a store other than the default `file` is wanted. Goals: file store >= 85 % of dd, list p50 < 30 ms.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { request, runLoad, rssMiB } from '../lib/load.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const sizeMiB = Number(args['size-mib'] ?? 1024);
const runs = Number(args.runs ?? 1);
const stores = (args.stores ?? 'file').split(',');
const imageCount = Number(args.images ?? 5000);
const listSeconds = Number(args['list-seconds'] ?? 5);
const skip = new Set((args.skip ?? '').split(',').filter(Boolean));
const password = 'bench-admin-pw';
const MiB = 1024 * 1024;

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function launch(dataDir, bundle) {
  const port = await freePort();
  const extra = ['--set', 'log.access_log=false', '--set', 'image.user_storage_quota=0'];
  if (args.backends) extra.push('--set', `image.enabled_backends=${args.backends}`);
  if (args.db) extra.push('--db', args.db);
  const prof = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  // A given bundle (an A/B build of dist/nubes.cjs) is loaded the way bin/nubes.mjs loads dist/.
  const entry = bundle
    ? ['--input-type=module', '-e', `import { loadBundle } from ${JSON.stringify(join(root, 'bin', 'load-bundle.mjs'))}; await loadBundle(${JSON.stringify(bundle)}).main(process.argv);`, '--', 'nubes']
    : [join(root, 'bin', 'nubes.mjs')];
  const child = spawn(process.execPath, [...prof, ...entry, 'start', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, '--admin-password', password, '--log-level', 'warn', ...extra], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const t0 = process.hrtime.bigint();
  for (;;) {
    try {
      if ((await request(`${url}/healthcheck`)).status === 200) break;
    } catch { /* not up yet */ }
    if (seconds(t0) > 60) throw new Error('server did not start in 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, label: bundle ?? 'dist/nubes.cjs' };
}

const stop = (child) => new Promise((resolve) => { child.once('exit', resolve); process.kill(child.pid, 'SIGTERM'); });

async function login(url, user, project) {
  const body = { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } };
  const res = await request(`${url}/identity/v3/auth/tokens`, { method: 'POST', body });
  return res.status === 201 ? res.headers['x-subject-token'] : null;
}

/** `dd` writing (conv=fsync) and reading the same size in the same directory as the server's data. */
function dd(dir) {
  const file = join(dir, 'dd.bin');
  let t0 = process.hrtime.bigint();
  const w = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${sizeMiB}`, 'conv=fsync', 'status=none']);
  if (w.status !== 0) throw new Error(`dd write failed: ${w.stderr}`);
  const write = sizeMiB / seconds(t0);
  t0 = process.hrtime.bigint();
  const r = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'status=none']);
  if (r.status !== 0) throw new Error(`dd read failed: ${r.stderr}`);
  const read = sizeMiB / seconds(t0);
  rmSync(file, { force: true });
  return { write_mib_s: round(write), read_mib_s: round(read) };
}

// CPU seconds of each thread of a process, from /proc (Linux): the server's main (HTTP) thread is
// the one whose id is the pid; the others are the hash workers, libuv's pool and V8's helpers.
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
function threadTimes(pid) {
  const out = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(Number(tid), { user: Number(fields[11]) / TICK, sys: Number(fields[12]) / TICK });
      } catch { /* the thread ended */ }
    }
  } catch { /* not Linux */ }
  return out;
}
function cpuSince(pid, before) {
  const after = threadTimes(pid);
  let main = 0;
  let mainSys = 0;
  let others = 0;
  let busiestOther = 0;
  const threads = [];
  for (const [tid, t] of after) {
    const was = before.get(tid) ?? { user: 0, sys: 0 };
    const used = t.user + t.sys - was.user - was.sys;
    if (used > 0.01) threads.push(round(used, 2));
    if (tid === pid) {
      main = used;
      mainSys = t.sys - was.sys;
    } else {
      others += used;
      busiestOther = Math.max(busiestOther, used);
    }
  }
  return { main, mainSys, others, busiestOther, threads: threads.sort((a, b) => b - a) };
}

/** Runs a command through bash so `times` reports its CPU (user + system) seconds. */
function timed(argv) {
  return new Promise((resolve, reject) => {
    const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('bash', ['-c', `${quoted}; rc=$?; times; exit $rc`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const lines = out.trim().split('\n');
      const children = (lines.pop() ?? '').match(/(\d+)m([\d.]+)s/g) ?? [];
      const cpu = children.reduce((sum, t) => { const [, m, s] = /(\d+)m([\d.]+)s/.exec(t); return sum + Number(m) * 60 + Number(s); }, 0);
      lines.pop(); // the shell's own times
      if (code !== 0) reject(new Error(`${argv[0]} exited ${code}: ${err.slice(0, 300)}`));
      else resolve({ stdout: lines.join('\n'), cpu });
    });
  });
}

/** PUT /file with curl -T (a lean client: it costs the shared cores little) from a file in the page cache. */
async function uploadCurl(url, token, id, store, source) {
  const headers = ['-H', `x-auth-token: ${token}`, '-H', 'content-type: application/octet-stream', '-H', 'Expect:'];
  if (store !== 'file' || args.backends) headers.push('-H', `x-image-meta-store: ${store}`);
  const t0 = process.hrtime.bigint();
  const res = await timed(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}\n', ...headers, '-T', source, `${url}/image/v2/images/${id}/file`]);
  const elapsed = seconds(t0);
  if (res.stdout.trim() !== '204') throw new Error(`upload: ${res.stdout}`);
  return { mibS: sizeMiB / elapsed, clientCpu: res.cpu };
}

async function downloadCurl(url, token, id) {
  const t0 = process.hrtime.bigint();
  const res = await timed(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}\n', '-H', `x-auth-token: ${token}`, `${url}/image/v2/images/${id}/file`]);
  const elapsed = seconds(t0);
  if (res.stdout.trim() !== `200 ${sizeMiB * MiB}`) throw new Error(`download: ${res.stdout}`);
  return { mibS: sizeMiB / elapsed, clientCpu: res.cpu };
}

/** Streams `sizeMiB` of (incompressible, repeated) bytes to PUT /file with node's http client and backpressure. */
function uploadNode(url, token, id, store, chunk) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/image/v2/images/${id}/file`);
    const headers = { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': sizeMiB * MiB };
    if (store !== 'file' || args.backends) headers['x-image-meta-store'] = store;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        const cpu = process.cpuUsage(cpu0);
        if (res.statusCode === 204) resolve({ mibS: sizeMiB / seconds(t0), clientCpu: (cpu.user + cpu.system) / 1e6 });
        else reject(new Error(`upload: ${res.statusCode} ${text.slice(0, 200)}`));
      });
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < sizeMiB) {
        sent++;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function downloadNode(url, token, id) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/image/v2/images/${id}/file`);
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { 'x-auth-token': token } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => {
        const cpu = process.cpuUsage(cpu0);
        if (res.statusCode === 200 && bytes === sizeMiB * MiB) resolve({ mibS: sizeMiB / seconds(t0), clientCpu: (cpu.user + cpu.system) / 1e6 });
        else reject(new Error(`download: ${res.statusCode}, ${bytes} bytes`));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Runs `fn` and returns its result with the server's CPU seconds per GiB moved, by thread group. */
async function accounted(pid, fn) {
  const before = threadTimes(pid);
  const res = await fn();
  const used = cpuSince(pid, before);
  const perGiB = (s) => round(s / (sizeMiB / 1024), 2);
  return { mib_s: round(res.mibS), client_cpu_s_per_gib: perGiB(res.clientCpu), server_main_cpu_s_per_gib: perGiB(used.main), server_main_sys_cpu_s_per_gib: perGiB(used.mainSys), server_other_threads_cpu_s_per_gib: perGiB(used.others), server_busiest_other_thread_cpu_s_per_gib: perGiB(used.busiestOther), server_thread_cpu_s: used.threads };
}

/**
 * Every round runs dd, then one upload + download per server and store, so servers built from
 * different bundles (--bundle a.cjs,b.cjs) are compared within the same minutes on a shared machine.
 */
async function dataBench(servers, dataDir) {
  const client = args.client ?? 'curl';
  const chunk = randomBytes(MiB);
  let source = null;
  if (client === 'curl') {
    source = join(dataDir, 'upload-source.bin');
    const fd = openSync(source, 'w');
    for (let i = 0; i < sizeMiB; i++) writeSync(fd, chunk);
    fsyncSync(fd); // its writeback must not land in the middle of a measurement
    closeSync(fd);
  }
  const rounds = [];
  const cells = new Map();
  for (let i = 0; i < runs; i++) {
    const round_ = { loadavg: round(loadavg()[0], 2), dd: dd(dataDir) };
    for (const server of servers) {
      for (const store of stores) {
        const created = await request(`${server.url}/image/v2/images`, { method: 'POST', headers: { 'x-auth-token': server.token }, body: { name: `bench-${store}-${i}`, disk_format: 'raw', container_format: 'bare' } });
        if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body.slice(0, 200)}`);
        const id = JSON.parse(created.body).id;
        const up = await accounted(server.child.pid, () => (client === 'curl' ? uploadCurl(server.url, server.token, id, store, source) : uploadNode(server.url, server.token, id, store, chunk)));
        const rss = await rssMiB(server.child.pid);
        const down = skip.has('download') ? null : await accounted(server.child.pid, () => (client === 'curl' ? downloadCurl(server.url, server.token, id) : downloadNode(server.url, server.token, id)));
        await request(`${server.url}/image/v2/images/${id}`, { method: 'DELETE', headers: { 'x-auth-token': server.token } });
        const key = `${server.label} ${store}`;
        if (!cells.has(key)) cells.set(key, { server: server.label, store, up: [], down: [], pct: [], rss: null });
        const cell = cells.get(key);
        cell.up.push(up);
        if (down) cell.down.push(down);
        cell.pct.push(round((100 * up.mib_s) / round_.dd.write_mib_s));
        cell.rss = rss;
      }
    }
    round_.loadavg_end = round(loadavg()[0], 2);
    rounds.push(round_);
  }
  if (source) rmSync(source, { force: true });
  const ddWrite = median(rounds.map((r) => r.dd.write_mib_s));
  const out = [...cells.values()].map((c) => ({
    server: c.server, store: c.store, client,
    upload_mib_s: round(median(c.up.map((u) => u.mib_s))), download_mib_s: c.down.length ? round(median(c.down.map((d) => d.mib_s))) : null,
    upload_pct_of_dd_write_same_round: c.pct, upload_pct_of_dd_write_median: median(c.pct),
    upload_runs: c.up, download_runs: c.down, server_rss_after_upload_mib: c.rss,
  }));
  return { dd_write_mib_s_median: ddWrite, rounds, stores: out };
}

/** Creates `imageCount` images (mixed visibility, tags, properties, owners) with a few clients in parallel. */
async function seed(url, admin, demo) {
  const t0 = process.hrtime.bigint();
  const visibilities = ['public', 'private', 'shared', 'community'];
  let next = 0;
  const ids = [];
  const client = async () => {
    while (next < imageCount) {
      const i = next++;
      const body = { name: `img-${String(i).padStart(5, '0')}`, disk_format: i % 3 ? 'qcow2' : 'raw', container_format: 'bare', visibility: visibilities[i % 4], min_ram: (i % 8) * 256 };
      if (i % 10 === 0) body.tags = ['gold', `batch-${i % 7}`];
      if (i % 5 === 0) body.os_distro = i % 2 ? 'debian' : 'ubuntu';
      // A tenth belong to the demo project (public ones stay the admin's: only admins publicize).
      const token = demo && i % 10 === 1 && body.visibility !== 'public' ? demo : admin;
      const res = await request(`${url}/image/v2/images`, { method: 'POST', headers: { 'x-auth-token': token }, body });
      if (res.status !== 201) throw new Error(`seed: ${res.status} ${res.body.slice(0, 200)}`);
      ids.push(JSON.parse(res.body).id);
    }
  };
  await Promise.all(Array.from({ length: 4 }, client));
  return { seconds: round(seconds(t0), 2), ids };
}

async function listBench(url, admin, demo) {
  const seeded = await seed(url, admin, demo);
  const page = await request(`${url}/image/v2/images?limit=1000`, { headers: { 'x-auth-token': admin } });
  const all = JSON.parse(page.body).images;
  const middle = all[Math.floor(all.length / 2)]; // half a page of 1000 deep: a marker far from the start
  const v2 = `${url}/image/v2/images`;
  const tests = {
    'default-page': [admin, ''],
    'member-default-page': [demo, ''],
    'name-eq': [admin, 'name=img-02500'],
    'tag': [admin, 'tag=gold'],
    'two-tags': [admin, 'tag=gold&tag=batch-3'],
    'property': [admin, 'os_distro=ubuntu'],
    'visibility-public-sort-name': [admin, 'visibility=public&sort=name:asc'],
    'member-shared-all': [demo, 'visibility=shared&member_status=all'],
    'created-at-gt': [admin, `created_at=gt:${middle.created_at}`],
    'sort-size-name-disk': [admin, 'sort=size:desc,name:asc,disk_format:asc'],
    'marker-deep-page': [admin, `marker=${middle.id}`],
    'in-list-min-ram-range': [admin, 'disk_format=in:raw,iso&min_ram_min=512&min_ram_max=1024'],
  };
  const results = [];
  for (const [name, [token, query]] of Object.entries(tests)) {
    if (!token) continue;
    const target = `${v2}?limit=25${query ? `&${query}` : ''}`;
    results.push(await runLoad(name, () => ({ url: target, headers: { 'x-auth-token': token }, expect: 200 }), { concurrency: 1, seconds: listSeconds }));
  }
  return { images: imageCount, seed_seconds: seeded.seconds, page_size: 25, results };
}

const base = args.dir ?? tmpdir();
const dataDir = mkdtempSync(join(base, 'nubes-bench-image-'));
const result = {
  bench: 'image', date: new Date().toISOString(), node: process.version, loadavg_start: loadavg()[0],
  data_dir: dataDir, filesystem: spawnSync('df', ['-T', dataDir], { encoding: 'utf8' }).stdout.trim().split('\n').pop(),
  db: args.db ? 'postgres' : 'sqlite', size_mib: sizeMiB, runs,
  notes: [
    'dd writes with conv=fsync, as the file store fsyncs before it answers; dd and the server read back from the page cache (dropping caches needs root), so download numbers are memory-bound.',
    'The upload client and the server share the machine\'s cores; md5 and sha512 of the data are computed while streaming.',
  ],
};
const servers = [];
try {
  for (const bundle of args.bundle ? args.bundle.split(',') : [undefined]) {
    const server = await launch(dataDir, bundle);
    servers.push(server);
    server.token = await login(server.url, 'admin', 'admin');
    if (!server.token) throw new Error('admin login failed');
  }
  if (!skip.has('data')) {
    statSync(dataDir);
    result.data = await dataBench(servers, dataDir);
    result.goal_file_store_pct_of_dd = 85;
  }
  if (!skip.has('list')) {
    const [server] = servers;
    result.list = await listBench(server.url, server.token, await login(server.url, 'demo', 'demo'));
    result.goal_list_p50_ms = 30;
  }
  result.server_rss_end_mib = await rssMiB(servers[0].child.pid);
} finally {
  for (const server of servers) await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}
result.loadavg_end = loadavg()[0];
const text = JSON.stringify(result, null, 2);
if (args.out) writeFileSync(args.out, text);
process.stdout.write(`${text}\n`);
