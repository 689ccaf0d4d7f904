// bench/object-store/ceilings: what this machine allows a Swift-compatible large-object transfer,
// printed as JSON next to the dd figures the goal is stated against.
//
// Usage: node bench/object-store/ceilings.mjs [--mib 64] [--runs 5] [--out file.json]
//
// - md5_mb_s: one core hashing MD5 over 1 MiB buffers (node:crypto, OpenSSL underneath). A PUT
//   must answer with the body's MD5 as its ETag (and check the client's ETag against it) before
//   it can answer, and MD5 is sequential: no PUT stream can go faster than one core hashes.
// - http_from_memory_mb_s: a GET answered from a buffer already in memory (no disk, no hashing)
//   by node:http on loopback, read by curl to /dev/null: what a GET can reach at best when the
//   server and the client share this machine's cores.
// - dd: write with conv=fsync and read with iflag=direct on the temp dir's disk, as
//   bench/object-store/run.mjs measures it for the 90 %-of-dd ratios.
// Each figure is the median of --runs, all runs listed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const mib = Number(args.mib ?? 64);
const runs = Number(args.runs ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v) => Math.round(v * 10) / 10;
const summary = (xs) => ({ median: round(median(xs)), runs: xs.map(round) });

function md5Rate() {
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const t0 = process.hrtime.bigint();
  const h = createHash('md5');
  for (let i = 0; i < mib; i++) h.update(chunk);
  h.digest();
  return (mib * 1048576) / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function httpFromMemory() {
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(mib * 1048576) });
    let sent = 0;
    const pump = () => {
      while (sent < mib) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const rates = [];
  try {
    for (let r = 0; r < runs; r++) {
      // curl runs as a child while this process serves: spawn it asynchronously
      const out = await new Promise((resolve, reject) => {
        let text = '';
        const child = spawn('curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download}', url]);
        child.stdout.on('data', (d) => (text += d));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`curl exited ${code}`))));
      });
      rates.push(Number(out) / 1e6);
    }
  } finally {
    server.close();
  }
  return rates;
}

function dd(ddArgs) {
  const out = spawnSync('dd', ddArgs, { encoding: 'utf8' });
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(out.stderr ?? '');
  if (out.status !== 0 || !m) throw new Error(`dd ${ddArgs.join(' ')}: ${out.stderr}`);
  return Number(m[1]) / 1e6 / Number(m[2]);
}

const dir = mkdtempSync(join(tmpdir(), 'nubes-ceil-'));
const file = join(dir, 'dd.bin');
const write = [];
const direct = [];
try {
  for (let r = 0; r < runs; r++) {
    write.push(dd(['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${Math.max(1, Math.round(mib / 4))}`, 'conv=fsync']));
    direct.push(dd([`if=${file}`, 'of=/dev/null', 'bs=4M', 'iflag=direct']));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const md5 = [];
for (let r = 0; r < runs; r++) md5.push(md5Rate());
const fromMemory = await httpFromMemory();
const result = {
  bench: 'object-store-ceilings',
  at: new Date().toISOString(),
  cores: cpus().length,
  loadavg: loadavg().map(round),
  mib,
  md5_mb_s: summary(md5),
  http_from_memory_mb_s: summary(fromMemory),
  dd: { write_fsync_mb_s: summary(write), read_direct_mb_s: summary(direct) },
};
// What the goal asks (90 % of dd) against what the ceilings allow, per direction.
result.put_goal_mb_s = round(0.9 * result.dd.write_fsync_mb_s.median);
result.put_goal_within_md5 = result.put_goal_mb_s <= result.md5_mb_s.median;
result.get_goal_mb_s = round(0.9 * result.dd.read_direct_mb_s.median);
result.get_goal_within_http_from_memory = result.get_goal_mb_s <= result.http_from_memory_mb_s.median;
const text = JSON.stringify(result, null, 2);
if (args.out) writeFileSync(args.out, `${text}\n`);
console.log(text);
