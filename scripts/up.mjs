#!/usr/bin/env node
// `npm run up [-- nubes start flags]`: from a fresh clone to a running cloud.
//
//   1. npm ci, when node_modules is missing or does not match package-lock.json
//      (npm ci also builds dist/ through the "prepare" script); otherwise
//      `npm run build` when dist/ is missing or older than src/.
//   2. Debian host packages: HOST_PACKAGES are required to start; OPTIONAL_PACKAGES
//      are only used by tests. Missing ones are installed with apt-get when we
//      are root (set NUBES_UP_NO_APT=1 to never touch apt); otherwise the exact
//      `sudo apt-get install ...` line is printed.
//   3. exec `node bin/nubes.mjs start <your flags>`; Ctrl-C / SIGTERM are passed on
//      to it, and its exit status becomes ours.
//
//   npm run up -- --bind 127.0.0.1:9000 --data-dir /tmp/cloud
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Debian packages `nubes start` cannot run without. None yet: what exists today
 * (the API services on SQLite) needs only Node. When the real compute, network
 * and block drivers land, add their tools here: crun, qemu-system-x86,
 * qemu-utils, iproute2, nftables, dnsmasq-base, e2fsprogs (see DESIGN.md).
 */
const HOST_PACKAGES = [];

/** Debian packages used only by the tests: the real OpenStack CLI (e2e tier) and PostgreSQL (functional tier on PG). */
const OPTIONAL_PACKAGES = ['python3-openstackclient', 'postgresql'];

const log = (msg) => console.log(`up: ${msg}`);

function run(cmd, args, opts = {}) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

// ---------------------------------------------------------------- 1. node_modules

/** Returns why node_modules must be (re)installed, or null if it matches package-lock.json. */
function nodeModulesProblem() {
  const lockPath = join(ROOT, 'package-lock.json');
  if (!existsSync(join(ROOT, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(lockPath)) return null; // nothing to compare with; npm ci would refuse anyway
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  const omitDev = process.env.NODE_ENV === 'production' || /\bdev\b/.test(process.env.npm_config_omit ?? '');
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/') || entry.link) continue;
    if (entry.optional || entry.devOptional && omitDev || entry.dev && omitDev) continue; // platform-specific or omitted
    let installed;
    try {
      installed = JSON.parse(readFileSync(join(ROOT, key, 'package.json'), 'utf8')).version;
    } catch {
      return `${key.slice('node_modules/'.length)} is not installed`;
    }
    if (entry.version && installed !== entry.version) {
      return `${key.slice('node_modules/'.length)} is ${installed}, package-lock.json wants ${entry.version}`;
    }
  }
  return null;
}

/** Newest modification time of the files under dir (0 if none). */
function newestMtime(dir, filter = () => true) {
  let newest = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && filter(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return newest;
}

function ensureNodeModules() {
  const problem = nodeModulesProblem();
  if (problem) {
    log(`${problem}: running npm ci`);
    if (run('npm', ['ci']) !== 0) {
      console.error('up: npm ci failed');
      process.exit(1);
    }
    return;
  }
  log('node_modules matches package-lock.json; skipping npm ci');
  // Only the bundle counts: the code cache beside it is rewritten at run time.
  const built = newestMtime(join(ROOT, 'dist'), (n) => n === 'nubes.cjs');
  const source = newestMtime(join(ROOT, 'src'), (n) => n.endsWith('.ts') && !n.endsWith('.test.ts'));
  if (source > 0 && built < source) {
    log(built === 0 ? 'dist/ is missing: building' : 'src/ changed since the last build: building');
    if (run('npm', ['run', 'build']) !== 0) {
      console.error('up: npm run build failed');
      process.exit(1);
    }
  }
}

// ---------------------------------------------------------------- 2. host packages

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function ensureHostPackages() {
  if (spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('not a Debian/Ubuntu host (no dpkg-query): skipping the host package check');
    if (HOST_PACKAGES.length) log(`make sure these are installed: ${HOST_PACKAGES.join(' ')}`);
    return;
  }
  const missingRequired = HOST_PACKAGES.filter((p) => !dpkgInstalled(p));
  const missingOptional = OPTIONAL_PACKAGES.filter((p) => !dpkgInstalled(p));
  const missing = [...missingRequired, ...missingOptional];
  if (missing.length === 0) {
    log('host packages present');
    return;
  }
  const aptLine = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && !process.env.NUBES_UP_NO_APT) {
    log(`installing host packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lockOpt = ['-o', 'DPkg::Lock::Timeout=900'];
    // policy-rc.d keeps maintainer scripts from starting daemons (e.g. a
    // PostgreSQL cluster on :5432); tests start what they need themselves.
    const policy = '/usr/sbin/policy-rc.d';
    const madePolicy = !existsSync(policy);
    if (madePolicy) {
      writeFileSync(policy, '#!/bin/sh\nexit 101\n');
      chmodSync(policy, 0o755);
    }
    let ok;
    try {
      ok = run('apt-get', [...lockOpt, 'update'], { env }) === 0 &&
        run('apt-get', [...lockOpt, 'install', '-y', '--no-install-recommends', ...missing], { env }) === 0;
    } finally {
      if (madePolicy) rmSync(policy, { force: true });
    }
    if (ok) return;
    if (missingRequired.length) {
      console.error(`up: could not install required packages: ${missingRequired.join(' ')}`);
      process.exit(1);
    }
    log(`WARNING: could not install optional packages (${missingOptional.join(' ')}); continuing — some tests will not run`);
    return;
  }
  const why = isRoot ? 'NUBES_UP_NO_APT is set' : 'not root';
  if (missingRequired.length) {
    console.error(`up: missing required host packages (${why}). Run:\n  sudo ${aptLine}`);
    process.exit(1);
  }
  log(`optional host packages missing (${missingOptional.join(' ')}; used by tests only, ${why}). To install:\n  sudo ${aptLine}`);
}

// ---------------------------------------------------------------- 3. start

function start(args) {
  const bin = join(ROOT, 'bin', 'nubes.mjs');
  if (!existsSync(bin)) {
    console.error(`up: ${bin} does not exist yet`);
    process.exit(1);
  }
  log(`$ node bin/nubes.mjs start ${args.join(' ')}`.trimEnd());
  // The child gets its own process group, so a Ctrl-C in the terminal reaches it
  // exactly once: through us (npm may forward the same SIGINT again; duplicates
  // within a second are dropped, a later second Ctrl-C is passed on).
  const child = spawn(process.execPath, [bin, 'start', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const lastSent = new Map();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      const now = Date.now();
      if (now - (lastSent.get(sig) ?? 0) < 1000) return;
      lastSent.set(sig, now);
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  // if we exit for any other reason, do not leave the server behind
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  child.on('error', (err) => {
    console.error(`up: could not start nubes: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) log(`nubes stopped by ${signal}`);
    process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
  });
}

// every argument is for `nubes start` (`npm run up -- --help` shows its flags)
ensureNodeModules();
ensureHostPackages();
start(process.argv.slice(2));
