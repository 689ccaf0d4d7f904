// bench/identity: cold start, idle RSS and request rates of Nubes' Keystone, printed as JSON.
// Usage: node bench/identity/run.mjs [--seconds 5] [--bcrypt-rounds 12] [--runs 3] [--tests a,b] [--out file.json]
//                                    [--password-cache-seconds N]
// --runs 0 skips the cold-start measurement. --password-cache-seconds 0 makes every password
// check hash (Keystone's behaviour); the default is the server's (a remembered check).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { request, runLoad, rssMiB } from '../lib/load.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const seconds = Number(args.seconds ?? 5);
const rounds = Number(args['bcrypt-rounds'] ?? 12);
const coldRuns = Number(args.runs ?? 3);
const only = args.tests ? new Set(args.tests.split(',')) : null;
const password = 'bench-admin-pw';
const passwordCache = args['password-cache-seconds'];
const cacheFlags = passwordCache === undefined ? [] : ['--set', `identity.verified_password_cache_seconds=${Number(passwordCache)}`];

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });

async function launch(dataDir, port) {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(root, 'bin', 'nubes.mjs'), 'start', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, '--admin-password', password, '--log-level', 'warn', '--set', `identity.password_hash_rounds=${rounds}`, '--set', 'log.access_log=false', ...cacheFlags], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const res = await request(`${url}/identity/v3/auth/tokens`, { method: 'POST', body: authBody(), headers: {} });
      if (res.status === 201) break;
    } catch { /* not up yet */ }
    if (Number(process.hrtime.bigint() - t0) / 1e9 > 30) throw new Error('server did not start in 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, url, readyMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const stop = (child) => new Promise((resolve) => { child.once('exit', resolve); process.kill(child.pid, 'SIGTERM'); });

function authBody(scope = { project: { name: 'admin', domain: { id: 'default' } } }) {
  return { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope } };
}

const result = { bench: 'identity', date: new Date().toISOString(), node: process.version, bcrypt_rounds: rounds, verified_password_cache_seconds: passwordCache === undefined ? 'server default' : Number(passwordCache), seconds_per_test: seconds, loadavg_start: loadavg()[0] };

// Cold start: a fresh data dir (first start bootstraps) and a second start on the same dir.
const coldFirst = [];
const coldWarm = [];
for (let i = 0; i < coldRuns; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-bench-'));
  const port = await freePort();
  const first = await launch(dir, port);
  coldFirst.push(first.readyMs);
  await stop(first.child);
  const again = await launch(dir, port);
  coldWarm.push(again.readyMs);
  await stop(again.child);
  rmSync(dir, { recursive: true, force: true });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
result.cold_start_ms = { first_start_median: Math.round(med(coldFirst)), restart_median: Math.round(med(coldWarm)), first_start_runs: coldFirst.map(Math.round), restart_runs: coldWarm.map(Math.round) };

const dir = mkdtempSync(join(tmpdir(), 'nubes-bench-'));
const { child, url } = await launch(dir, await freePort());
await new Promise((r) => setTimeout(r, 1000));
result.rss_idle_mib = await rssMiB(child.pid);

const issued = await request(`${url}/identity/v3/auth/tokens`, { method: 'POST', body: authBody() });
const token = issued.headers['x-subject-token'];
const unscoped = (await request(`${url}/identity/v3/auth/tokens`, { method: 'POST', body: authBody('unscoped') })).headers['x-subject-token'];
const v3 = `${url}/identity/v3`;
const tests = {
  'token-password': () => ({ url: `${v3}/auth/tokens`, method: 'POST', body: authBody(), expect: 201 }),
  'token-rescope': () => ({ url: `${v3}/auth/tokens`, method: 'POST', body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }, expect: 201 }),
  validate: () => ({ url: `${v3}/auth/tokens`, headers: { 'x-auth-token': token, 'x-subject-token': token }, expect: 200 }),
  'catalog-list': () => ({ url: `${v3}/auth/catalog`, headers: { 'x-auth-token': token }, expect: 200 }),
  'users-list': () => ({ url: `${v3}/users`, headers: { 'x-auth-token': token }, expect: 200 }),
};
result.rates = [];
for (const [name, make] of Object.entries(tests)) {
  if (only && !only.has(name)) continue;
  for (const concurrency of [1, 16]) {
    // bcrypt-bound password issue: keep it short so the run stays bounded.
    const secs = name === 'token-password' ? Math.min(seconds, 5) : seconds;
    result.rates.push(await runLoad(name, make, { concurrency, seconds: secs }));
  }
}
result.rss_after_load_mib = await rssMiB(child.pid);
result.loadavg_end = loadavg()[0];
await stop(child);
rmSync(dir, { recursive: true, force: true });
const text = JSON.stringify(result, null, 2);
if (args.out) writeFileSync(args.out, text);
process.stdout.write(`${text}\n`);
