// bench/image: image data throughput through the real server next to `dd` on the same disk, and
// image-list latency with thousands of images, printed as JSON. Loopback only.
// Usage: node bench/image/run.mjs [--size-mib 1024] [--runs 1] [--stores file] [--backends file:file,swift:swift]
//        [--images 5000] [--list-seconds 5] [--dir /path/on/the/disk] [--db postgres://...] [--skip data|list] [--out file.json]
// --stores: store ids to measure (sent as X-Image-Meta-Store); --backends sets image.enabled_backends
// when a store other than the default `file` is wanted. Goals: file store >= 85 % of dd, list p50 < 30 ms.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

async function launch(dataDir) {
  const port = await freePort();
  const extra = ['--set', 'log.access_log=false', '--set', 'image.user_storage_quota=0'];
  if (args.backends) extra.push('--set', `image.enabled_backends=${args.backends}`);
  if (args.db) extra.push('--db', args.db);
  const child = spawn(process.execPath, [join(root, 'bin', 'nubes.mjs'), 'start', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, '--admin-password', password, '--log-level', 'warn', ...extra], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const t0 = process.hrtime.bigint();
  for (;;) {
    try {
      if ((await request(`${url}/healthcheck`)).status === 200) break;
    } catch { /* not up yet */ }
    if (seconds(t0) > 60) throw new Error('server did not start in 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url };
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

/** Streams `sizeMiB` of (incompressible, repeated) bytes to PUT /file with backpressure; resolves to MiB/s. */
function upload(url, token, id, store, chunk) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/image/v2/images/${id}/file`);
    const headers = { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': sizeMiB * MiB };
    if (store !== 'file' || args.backends) headers['x-image-meta-store'] = store;
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode === 204 ? resolve(sizeMiB / seconds(t0)) : reject(new Error(`upload: ${res.statusCode} ${text.slice(0, 200)}`))));
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

function download(url, token, id) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/image/v2/images/${id}/file`);
    const t0 = process.hrtime.bigint();
    http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { 'x-auth-token': token } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 && bytes === sizeMiB * MiB ? resolve(sizeMiB / seconds(t0)) : reject(new Error(`download: ${res.statusCode}, ${bytes} bytes`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function dataBench(url, token, child, ddResult) {
  const chunk = randomBytes(MiB);
  const out = [];
  for (const store of stores) {
    const up = [];
    const down = [];
    let rssAfterUpload = null;
    for (let i = 0; i < runs; i++) {
      const created = await request(`${url}/image/v2/images`, { method: 'POST', headers: { 'x-auth-token': token }, body: { name: `bench-${store}-${i}`, disk_format: 'raw', container_format: 'bare' } });
      if (created.status !== 201) throw new Error(`create: ${created.status} ${created.body.slice(0, 200)}`);
      const id = JSON.parse(created.body).id;
      up.push(await upload(url, token, id, store, chunk));
      rssAfterUpload = await rssMiB(child.pid);
      down.push(await download(url, token, id));
      await request(`${url}/image/v2/images/${id}`, { method: 'DELETE', headers: { 'x-auth-token': token } });
    }
    const upload_mib_s = round(median(up));
    const download_mib_s = round(median(down));
    out.push({
      store, upload_mib_s, download_mib_s, upload_runs: up.map((v) => round(v)), download_runs: down.map((v) => round(v)),
      upload_pct_of_dd_write: round((100 * upload_mib_s) / ddResult.write_mib_s), download_pct_of_dd_read: round((100 * download_mib_s) / ddResult.read_mib_s),
      server_rss_after_upload_mib: rssAfterUpload,
    });
  }
  return out;
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
let server;
try {
  server = await launch(dataDir);
  const admin = await login(server.url, 'admin', 'admin');
  if (!admin) throw new Error('admin login failed');
  const demo = await login(server.url, 'demo', 'demo');
  if (!skip.has('data')) {
    statSync(dataDir);
    result.dd = dd(dataDir);
    result.stores = await dataBench(server.url, admin, server.child, result.dd);
    result.goal_file_store_pct_of_dd = 85;
  }
  if (!skip.has('list')) {
    result.list = await listBench(server.url, admin, demo);
    result.goal_list_p50_ms = 30;
  }
  result.server_rss_end_mib = await rssMiB(server.child.pid);
} finally {
  if (server) await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}
result.loadavg_end = loadavg()[0];
const text = JSON.stringify(result, null, 2);
if (args.out) writeFileSync(args.out, text);
process.stdout.write(`${text}\n`);
