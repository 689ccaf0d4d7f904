#!/usr/bin/env node
// Runs Nubes' test tiers with node:test (through tsx) and prints one total.
//
//   npm test                       # unit, functional (SQLite + PostgreSQL), e2e
//   npm test -- unit               # one tier (also: npm run test:unit)
//   npm test -- functional test/functional/identity   # only files under a path
//   npm test -- unit --test-name-pattern=token          # extra flags go to node --test
//
// Tiers (files are found with fs, no shell globs):
//   unit        src/**/*.test.ts (with NUBES_TEST_DB=$NUBES_TEST_PG_URL when that is set:
//               suites written for both engines then also run on PostgreSQL)
//   functional  test/functional/**/*.test.ts, run twice: on SQLite (NUBES_TEST_DB
//               unset) and on PostgreSQL (NUBES_TEST_DB=$NUBES_TEST_PG_URL).
//               Without NUBES_TEST_PG_URL the PostgreSQL pass is not run: a loud
//               warning locally, a failure when CI=true.
//   e2e         test/e2e/**/*.test.ts (environment passed through unchanged)
//
// Environment: NUBES_TEST_PG_URL (postgres://...), CI, NUBES_TEST_TIMEOUT_MS
// (default per-test timeout; a test's own `timeout` option wins).
// Output: node's spec reporter for humans; a TAP copy of each run is parsed for
// the counts. The last line is "N passed, N failed". Exit 1 if anything failed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The tiers, in the order `npm test` runs them. */
const TIERS = {
  // alsoPostgres: the unit tier gets NUBES_TEST_DB=$NUBES_TEST_PG_URL; suites that
  // support both engines (src/common/jobs/testing.ts testEngines()) then run on each
  unit: { dirs: ['src'], timeoutMs: 60_000, alsoPostgres: true },
  functional: { dirs: ['test/functional'], timeoutMs: 120_000, databases: true },
  e2e: { dirs: ['test/e2e'], timeoutMs: 300_000 },
};
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.nubes', '.conformance']);

function usage(code) {
  console.log(`usage: node scripts/test.mjs [unit|functional|e2e|all ...] [PATH ...] [-- node --test flags]
  PATH limits a tier to the test files under it. Flags starting with -- are passed to node --test.`);
  process.exit(code);
}

function findTests(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return; // missing directory: no tests
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(join(d, e.name));
      } else if (e.isFile() && e.name.endsWith('.test.ts')) {
        out.push(join(d, e.name));
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** Runs node --test on files; resolves to {pass, fail, code, counted}. */
function runNodeTest(label, files, env, timeoutMs, extra) {
  const tmp = mkdtempSync(join(tmpdir(), 'nubes-testrun-'));
  const tapFile = join(tmp, 'report.tap');
  const args = [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${Number(process.env.NUBES_TEST_TIMEOUT_MS) || timeoutMs}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...extra,
    ...files.map((f) => relative(ROOT, f)),
  ];
  console.log(`\n=== ${label}: ${files.length} file(s) ===`);
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
    current = child;
    child.on('exit', (code, signal) => {
      current = null;
      let tap = '';
      try {
        tap = readFileSync(tapFile, 'utf8');
      } catch {
        /* the runner died before writing anything */
      }
      rmSync(tmp, { recursive: true, force: true });
      const num = (key) => {
        // top-level summary lines are not indented: "# pass 12"
        const all = [...tap.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
        return all.length ? Number(all[all.length - 1][1]) : null;
      };
      const pass = num('pass');
      const fail = (num('fail') ?? 0) + (num('cancelled') ?? 0);
      const counted = pass !== null;
      const exit = signal ? `signal ${signal}` : `exit ${code}`;
      const ok = code === 0 && counted && fail === 0;
      console.log(`--- ${label}: ${pass ?? 0} passed, ${fail} failed (${exit})${counted ? '' : ' — no test summary was produced'}`);
      resolvePromise({ label, pass: pass ?? 0, fail, ok });
    });
  });
}

let current = null;
let interrupted = false;
// Ctrl-C: pass the signal on to the running test process (it may also get it
// from the terminal directly; node's runner copes) and start no further tier.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupted = true;
    if (current) current.kill(sig);
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const tiers = [];
  const paths = [];
  const extra = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') usage(0);
    else if (a === '--') extra.push(...argv.slice(i + 1)), (i = argv.length);
    else if (a.startsWith('-')) extra.push(a);
    else if (a === 'all') tiers.push(...Object.keys(TIERS));
    else if (a in TIERS) tiers.push(a);
    else if (existsSync(resolve(a))) paths.push(resolve(a));
    else {
      console.error(`test.mjs: unknown tier or path "${a}" (tiers: ${Object.keys(TIERS).join(', ')}, all)`);
      usage(2);
    }
  }
  if (tiers.length === 0) tiers.push(...Object.keys(TIERS));

  const inCI = /^(true|1|yes)$/i.test(process.env.CI ?? '');
  const pgUrl = process.env.NUBES_TEST_PG_URL?.trim() || '';
  if (tiers.includes('functional') && !pgUrl && inCI) {
    console.error('ERROR: PostgreSQL suite required in CI: set NUBES_TEST_PG_URL=postgres://USER:PW@HOST:PORT/DB (see docs/testing.md)');
    process.exit(1);
  }

  const under = (f) => paths.length === 0 || paths.some((p) => f === p || f.startsWith(p + sep));
  const results = [];
  const notes = [];
  for (const tier of [...new Set(tiers)]) {
    if (interrupted) break;
    const spec = TIERS[tier];
    const files = spec.dirs.flatMap((d) => findTests(join(ROOT, d))).filter(under);
    if (files.length === 0) {
      console.log(`\n=== ${tier}: no test files under ${spec.dirs.join(', ')}${paths.length ? ' (with the given paths)' : ''}; skipped ===`);
      continue;
    }
    if (spec.alsoPostgres && pgUrl && !process.env.NUBES_TEST_DB) {
      // suites built on testEngines() run on SQLite and, with NUBES_TEST_DB, PostgreSQL too
      results.push(await runNodeTest(`${tier} (SQLite + PostgreSQL)`, files, { ...process.env, NUBES_TEST_DB: pgUrl }, spec.timeoutMs, extra));
      continue;
    }
    if (!spec.databases) {
      results.push(await runNodeTest(tier, files, { ...process.env }, spec.timeoutMs, extra));
      continue;
    }
    const sqliteEnv = { ...process.env };
    delete sqliteEnv.NUBES_TEST_DB;
    results.push(await runNodeTest(`${tier} (SQLite)`, files, sqliteEnv, spec.timeoutMs, extra));
    if (interrupted) break;
    if (pgUrl) {
      const pgEnv = { ...process.env, NUBES_TEST_DB: pgUrl };
      results.push(await runNodeTest(`${tier} (PostgreSQL)`, files, pgEnv, spec.timeoutMs, extra));
    } else {
      const msg = 'WARNING: PostgreSQL functional suite NOT run: set NUBES_TEST_PG_URL (see docs/testing.md)';
      console.log(`\n${msg}`);
      notes.push(msg);
    }
  }

  console.log('\n=== summary ===');
  for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.label}: ${r.pass} passed, ${r.fail} failed`);
  for (const n of notes) console.log(n);
  if (interrupted) console.log('interrupted: remaining tiers were not run');
  const pass = results.reduce((n, r) => n + r.pass, 0);
  const fail = results.reduce((n, r) => n + r.fail, 0);
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(results.every((r) => r.ok) && !interrupted ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
