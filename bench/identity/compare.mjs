// Side-by-side: the same identity load against two Keystone-compatible endpoints, one after the
// other in the same run, printed as JSON. Loopback only.
// Usage: node bench/identity/compare.mjs --a-url URL --a-password PW [--a-user admin --a-project admin]
//        --b-url URL --b-password PW [...] [--seconds 10] [--tests validate,...] [--out file]
//        [--b-no-keepalive 1]  (uWSGI's http-socket resets pooled connections)
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { request, runLoad } from '../lib/load.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const seconds = Number(args.seconds ?? 10);
const only = args.tests ? new Set(args.tests.split(',')) : null;

const target = (p) => ({ label: args[`${p}-label`] ?? p, v3: args[`${p}-url`].replace(/\/+$/, ''), user: args[`${p}-user`] ?? 'admin', password: args[`${p}-password`], project: args[`${p}-project`] ?? 'admin', keepAlive: !args[`${p}-no-keepalive`] });
const targets = [target('a'), target('b')];

function authBody(t, scope) {
  return { auth: { identity: { methods: ['password'], password: { user: { name: t.user, domain: { id: 'default' }, password: t.password } } }, scope } };
}

const results = { bench: 'identity-compare', date: new Date().toISOString(), seconds_per_test: seconds, targets: [] };
for (const t of targets) {
  const projectScope = { project: { name: t.project, domain: { id: 'default' } } };
  const issued = await request(`${t.v3}/auth/tokens`, { method: 'POST', body: authBody(t, projectScope), keepAlive: t.keepAlive });
  if (issued.status !== 201) throw new Error(`${t.label}: login failed ${issued.status} ${issued.body.slice(0, 200)}`);
  const token = issued.headers['x-subject-token'];
  const unscoped = (await request(`${t.v3}/auth/tokens`, { method: 'POST', body: authBody(t, 'unscoped'), keepAlive: t.keepAlive })).headers['x-subject-token'];
  const tests = {
    'token-password': () => ({ url: `${t.v3}/auth/tokens`, method: 'POST', body: authBody(t, projectScope), expect: 201 }),
    'token-rescope': () => ({ url: `${t.v3}/auth/tokens`, method: 'POST', body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: projectScope } }, expect: 201 }),
    validate: () => ({ url: `${t.v3}/auth/tokens`, headers: { 'x-auth-token': token, 'x-subject-token': token }, expect: 200 }),
    'catalog-list': () => ({ url: `${t.v3}/auth/catalog`, headers: { 'x-auth-token': token }, expect: 200 }),
    'users-list': () => ({ url: `${t.v3}/users`, headers: { 'x-auth-token': token }, expect: 200 }),
  };
  const rates = [];
  for (const [name, make] of Object.entries(tests)) {
    if (only && !only.has(name)) continue;
    for (const concurrency of [1, 16]) {
      rates.push({ ...(await runLoad(name, () => ({ ...make(), keepAlive: t.keepAlive }), { concurrency, seconds, warmupSeconds: 2 })), loadavg: loadavg()[0] });
    }
  }
  results.targets.push({ label: t.label, url: t.v3, rates });
}
const text = JSON.stringify(results, null, 2);
if (args.out) writeFileSync(args.out, text);
process.stdout.write(`${text}\n`);
