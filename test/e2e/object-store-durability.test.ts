import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer, type RunningServer } from '../helpers/server.js';
import { eventually, filesUnder, md5, slowPut, swiftSession } from './object-store-swift.js';

/** Kills a server by its PID and waits until it is gone (its stop() must not run afterwards). */
async function killHard(server: RunningServer): Promise<void> {
  const exited = new Promise((r) => server.process.once('exit', r));
  process.kill(server.pid, 'SIGKILL');
  await exited;
}

describe('e2e: object store durability (real server, kill -9)', () => {
  it('100 concurrent PUTs, kill -9 mid-flight, restart: acknowledged objects intact, none partial, listing converges', { timeout: 240_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nubes-dur-e2e-'));
    const daemons = ['--set', 'object_store.updater_interval=1'];
    let server: RunningServer | undefined;
    try {
      server = await startServer(daemons, {}, { dataDir });
      const s = await swiftSession(server);
      assert.equal((await fetch(`${s.storageUrl}/dur`, { method: 'PUT', headers: { 'x-auth-token': s.token } })).status, 201);

      const bodies = Array.from({ length: 100 }, (_, i) => randomBytes(16 * 1024 + ((i * 7919) % (384 * 1024))));
      const acked = new Map<number, string>();
      let killed = false;
      let kill: () => void = () => undefined;
      const killedNow = new Promise<void>((resolve) => (kill = resolve));
      const uploads = bodies.map((body, i) =>
        // The later half trickles in, so uploads are still streaming when the first ones are acknowledged.
        slowPut(`${s.storageUrl}/dur/obj-${i}`, s.token, body, { chunk: 16 * 1024, pauseMs: i < 50 ? 0 : 20, chunked: i % 2 === 1 }).then(
          (res) => {
            if (killed) return;
            assert.equal(res.status, 201, `obj-${i}`);
            acked.set(i, res.etag!);
            if (acked.size >= 25) kill();
          },
          () => undefined, // cut off by the kill
        ),
      );
      await Promise.race([killedNow, Promise.all(uploads)]);
      killed = true;
      const ackedAtKill = new Map(acked);
      await killHard(server);
      server = undefined;
      await Promise.all(uploads);
      assert.ok(ackedAtKill.size >= 25, `${ackedAtKill.size} acknowledged before the kill`);
      assert.ok(ackedAtKill.size < 100, 'some uploads were still in flight when the server died');

      server = await startServer(daemons, {}, { dataDir });
      const s2 = await swiftSession(server);
      const present = new Map<string, number>();
      for (let i = 0; i < bodies.length; i++) {
        const res = await fetch(`${s2.storageUrl}/dur/obj-${i}`, { headers: { 'x-auth-token': s2.token } });
        const got = Buffer.from(await res.arrayBuffer());
        const want = md5(bodies[i]!);
        if (ackedAtKill.has(i)) {
          assert.equal(res.status, 200, `acknowledged obj-${i} survives`);
          assert.equal(ackedAtKill.get(i), want, `obj-${i}: the acknowledged ETag is the body's MD5`);
        } else {
          assert.ok(res.status === 200 || res.status === 404, `obj-${i}: ${res.status}`);
        }
        if (res.status === 200) {
          assert.equal(got.length, bodies[i]!.length, `obj-${i} is never partial`);
          assert.equal(md5(got), want, `obj-${i} byte-identical`);
          assert.equal(res.headers.get('etag'), want);
          present.set(`obj-${i}`, got.length);
        }
      }
      // Listing and stats converge on exactly what is readable once the updater has run.
      await eventually('listing convergence', 60_000, async () => {
        const res = await fetch(`${s2.storageUrl}/dur?format=json`, { headers: { 'x-auth-token': s2.token } });
        const listed = ((await res.json()) as Array<{ name: string; bytes: number }>).map((o) => `${o.name}:${o.bytes}`).sort();
        const want = [...present].map(([n, b]) => `${n}:${b}`).sort();
        const bytes = [...present.values()].reduce((a, b) => a + b, 0);
        const count = res.headers.get('x-container-object-count');
        const used = res.headers.get('x-container-bytes-used');
        if (JSON.stringify(listed) !== JSON.stringify(want)) return `listed ${listed.length}, readable ${want.length}`;
        return count === String(present.size) && used === String(bytes) ? true : `stats ${count}/${used}, want ${present.size}/${bytes}`;
      });
      t.diagnostic(`${ackedAtKill.size} acknowledged before the kill, ${present.size} readable after the restart`);
      const account = await fetch(s2.storageUrl, { method: 'HEAD', headers: { 'x-auth-token': s2.token } });
      assert.equal(account.headers.get('x-account-object-count'), String(present.size));
    } finally {
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('--object-replicas 3: a flipped byte is quarantined by the auditor and the replicator restores the replica', { timeout: 120_000 }, async () => {
    const server = await startServer(['--object-replicas', '3', '--set', 'object_store.auditor_interval=1', '--set', 'object_store.replicator_interval=1']);
    try {
      const s = await swiftSession(server);
      await fetch(`${s.storageUrl}/rot`, { method: 'PUT', headers: { 'x-auth-token': s.token } });
      const body = randomBytes(100_000);
      const put = await fetch(`${s.storageUrl}/rot/victim`, { method: 'PUT', headers: { 'x-auth-token': s.token }, body });
      assert.equal(put.status, 201);
      const devices = join(server.dataDir, 'object-store', 'devices');
      const replicas = ['d0', 'd1', 'd2'].map((d) => filesUnder(join(devices, d, 'objects'), /\.data$/));
      assert.deepEqual(replicas.map((r) => r.length), [1, 1, 1], 'one replica on each of the three devices');
      const file = replicas[0]![0]!;
      const bytes = readFileSync(file);
      bytes[1234] = bytes[1234]! ^ 0x01;
      writeFileSync(file, bytes);

      await eventually('quarantine and repair', 60_000, async () => {
        const quarantined = filesUnder(join(devices, 'd0', 'quarantined'), /\.data$/);
        const restored = filesUnder(join(devices, 'd0', 'objects'), /\.data$/);
        if (quarantined.length !== 1) return `${quarantined.length} quarantined`;
        return restored.length === 1 && readFileSync(restored[0]!).subarray(0, body.length).equals(body) ? true : 'not restored yet';
      });
      const res = await fetch(`${s.storageUrl}/rot/victim`, { headers: { 'x-auth-token': s.token } });
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(body));
    } finally {
      await server.stop();
    }
  });
});
