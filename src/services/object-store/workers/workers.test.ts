import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../../common/clock.js';
import { bodyOf, brokenBody, md5, readAll, writeMeta } from '../storage/contract.test-suite.js';
import { createLocalCluster, type LocalCluster, type LocalClusterOptions } from '../storage/local/cluster.js';
import { StorageError } from '../storage/types.js';
import type { ObjectDisk } from '../storage/local/diskfile.js';
import type { RingDevice } from '../ring/types.js';
import { runAuditorOnce, runExpirerOnce, runReplicatorOnce, runUpdaterOnce } from './index.js';

const A = 'AUTH_dur';
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

async function cluster(replicas: number, extra: Partial<LocalClusterOptions> = {}): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-dur-'));
  const c = await createLocalCluster({ root: join(dir, 'object-store'), replicas, partPower: 4, ...extra });
  cleanup.push(() => {
    c.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await c.putContainer(A, 'c', { set: {} }, writeMeta().timestamp);
  return c;
}

function disk(c: LocalCluster, node: RingDevice): ObjectDisk {
  const d = c.localDisks().find((x) => x.id === node.id);
  assert.ok(d, `device ${node.id} is local`);
  return d;
}

function replicaDirs(c: LocalCluster, object: string): string[] {
  const { part, hash, nodes } = c.rings.object.getNodes(A, 'c', object);
  return nodes.map((n) => disk(c, n).hashDir(part, hash));
}

function dataFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.data')) : [];
}

async function text(c: LocalCluster, object: string): Promise<string | null> {
  const got = await c.getObject(A, 'c', object);
  return got ? (await readAll(got.body)).toString() : null;
}

describe('object store durability', () => {
  it('a write failing mid-stream leaves no half-written object and no temp file', async () => {
    let armed = false;
    const c = await cluster(1, {
      onReplicaWrite: (_disk, bytes) => {
        if (armed && bytes > 1024) throw new Error('EIO: simulated disk failure');
      },
    });
    await c.putObject(A, 'c', 'obj', bodyOf('old version'), writeMeta());
    armed = true;
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(1000, 1));
    await assert.rejects(c.putObject(A, 'c', 'obj', bodyOf(...chunks), writeMeta()), (e: unknown) => e instanceof StorageError && e.kind === 'insufficient_storage');
    await assert.rejects(c.putObject(A, 'c', 'obj', brokenBody(Buffer.alloc(10)), writeMeta()), (e: unknown) => e instanceof StorageError && e.kind === 'client_disconnect');
    assert.equal(await text(c, 'obj'), 'old version');
    for (const disk of c.localDisks()) assert.deepEqual(readdirSync(disk.tmpDir), []);
    // A crash between write and rename leaves only a temp file, which no reader ever looks at.
    writeFileSync(join(c.localDisks()[0]!.tmpDir, 'crashed.tmp'), 'garbage');
    assert.equal(await text(c, 'obj'), 'old version');
    const listing = await c.listObjects(A, 'c', { limit: 10 });
    assert.equal(listing?.length, 1);
  });

  it('3 replicas: a replica failing mid-stream still reaches quorum; the replicator fills it in', async () => {
    let victim: number | undefined;
    const c = await cluster(3, {
      onReplicaWrite: (disk, bytes) => {
        if (disk.id === victim && bytes > 0) throw new Error('EIO');
      },
    });
    victim = c.rings.object.getNodes(A, 'c', 'q').nodes[2]!.id;
    const info = await c.putObject(A, 'c', 'q', bodyOf('abc', 'def'), writeMeta());
    assert.equal(info.etag, md5('abcdef'));
    const dirs = replicaDirs(c, 'q');
    assert.deepEqual(dirs.map((d) => dataFiles(d).length), [1, 1, 0]);
    victim = undefined;
    const rep = await runReplicatorOnce(c);
    assert.ok(rep.synced >= 1);
    assert.deepEqual(dirs.map((d) => dataFiles(d).length), [1, 1, 1]);
  });

  it('deleting a device\'s files: the replicator restores them (objects and databases)', async () => {
    const c = await cluster(3);
    for (let i = 0; i < 20; i++) await c.putObject(A, 'c', `o${i}`, bodyOf(`body ${i}`), writeMeta());
    await c.deleteObject(A, 'c', 'o0', writeMeta().timestamp);
    const wiped = c.localDisks()[1]!;
    for (const sub of ['objects', 'containers', 'accounts']) rmSync(join(wiped.root, sub), { recursive: true, force: true });
    await runReplicatorOnce(c);
    // Only the wiped device may answer now.
    for (const d of c.localDisks()) d.offline = d !== wiped;
    try {
      for (let i = 1; i < 20; i++) assert.equal(await text(c, `o${i}`), `body ${i}`);
      assert.equal(await c.headObject(A, 'c', 'o0'), null, 'the tombstone was replicated too');
      assert.equal((await c.headContainer(A, 'c'))?.objectCount, 19);
      assert.equal((await c.listObjects(A, 'c', { limit: 100 }))?.length, 19);
      assert.ok(await c.headAccount(A));
    } finally {
      for (const d of c.localDisks()) d.offline = false;
    }
  });

  it('flipped bytes: the auditor quarantines the replica, the replicator repairs it', async () => {
    const c = await cluster(3);
    const body = Buffer.alloc(5000, 3);
    await c.putObject(A, 'c', 'rot', bodyOf(body), writeMeta());
    const dir = replicaDirs(c, 'rot')[0]!;
    const file = join(dir, dataFiles(dir)[0]!);
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(file, bytes);
    const audit = await runAuditorOnce(c);
    assert.equal(audit.quarantined.length, 1);
    assert.ok(audit.quarantined[0]!.includes('quarantined'));
    assert.equal(dataFiles(dir).length, 0);
    assert.deepEqual(await readAll((await c.getObject(A, 'c', 'rot'))!.body), body);
    await runReplicatorOnce(c);
    assert.deepEqual(readFileSync(join(dir, dataFiles(dir)[0]!)).subarray(0, 5000), body);
    assert.equal((await runAuditorOnce(c)).quarantined.length, 0);
  });

  it('one device unavailable: reads and writes still succeed; the updater and replicator catch up', async () => {
    const c = await cluster(3);
    await c.putObject(A, 'c', 'before', bodyOf('1'), writeMeta());
    const down = disk(c, c.rings.container.getNodes(A, 'c').nodes[0]!);
    down.offline = true;
    assert.equal(await text(c, 'before'), '1');
    await c.putObject(A, 'c', 'during', bodyOf('2'), writeMeta());
    assert.equal(await text(c, 'during'), '2');
    assert.equal((await c.headContainer(A, 'c'))?.objectCount, 2);
    down.offline = false;
    const upd = await runUpdaterOnce(c);
    assert.ok(upd.applied >= 1);
    assert.equal(upd.remaining, 0);
    await runReplicatorOnce(c);
    for (const d of c.localDisks()) d.offline = d !== down;
    try {
      assert.equal(await text(c, 'during'), '2');
      assert.equal((await c.listObjects(A, 'c', { limit: 10 }))?.length, 2);
    } finally {
      for (const d of c.localDisks()) d.offline = false;
    }
    // Two of three down: no quorum, the write is refused rather than under-replicated.
    const nodes = c.rings.object.getNodes(A, 'c', 'x').nodes;
    disk(c, nodes[0]!).offline = true;
    disk(c, nodes[1]!).offline = true;
    await assert.rejects(c.putObject(A, 'c', 'x', bodyOf('3'), writeMeta()), (e: unknown) => e instanceof StorageError && e.kind === 'insufficient_storage');
  });

  it('a proxy dying between commit and listing update: the intent makes the updater list what landed, and only that', async () => {
    const c = await cluster(1);
    const device = c.devices.all()[0]!;
    const row = (name: string, createdAt: string) => ({ name, createdAt, size: 5, contentType: 'text/plain', etag: md5('hello'), deleted: false });
    const landedTs = writeMeta().timestamp;
    const lostTs = writeMeta().timestamp;
    // What putObject leaves behind when killed right after the commit: the data and its intent.
    const landed = c.rings.object.getNodes(A, 'c', 'landed');
    await device.objects.saveAsyncPending({ account: A, container: 'c', row: row('landed', landedTs), intent: { savedAt: Date.now() } });
    const w = await device.objects.createWriter(landed.part, landed.hash);
    await w.write(Buffer.from('hello'));
    await w.commit({ name: 'landed', account: A, container: 'c', timestamp: landedTs, contentType: 'text/plain', etag: md5('hello'), size: 5, headers: {} });
    // ... and when killed before the commit: only the intent.
    await device.objects.saveAsyncPending({ account: A, container: 'c', row: row('lost', lostTs), intent: { savedAt: Date.now() } });
    assert.deepEqual(await runUpdaterOnce(c), { applied: 0, remaining: 0 }, 'a live process\'s intents are its own business');
    assert.equal((await c.listObjects(A, 'c', { limit: 10 }))?.length, 0);

    c.dbs.closeAll(); // the dead process's database locks go with it
    const restarted = await createLocalCluster({ root: c.root });
    cleanup.push(() => restarted.close());
    assert.equal((await runUpdaterOnce(restarted)).applied, 1);
    assert.deepEqual((await restarted.listObjects(A, 'c', { limit: 10 }))?.map((o) => ('name' in o ? o.name : o.subdir)), ['landed']);
    assert.equal((await restarted.headContainer(A, 'c'))?.bytesUsed, 5);
    assert.deepEqual(await device.objects.asyncPendings(10), [], 'both intents are gone');
  });

  it('the expirer removes objects once X-Delete-At passes', async () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const c = await cluster(1, { clock });
    const at = Math.floor(clock.now().getTime() / 1000) + 60;
    await c.putObject(A, 'c', 'tmp', bodyOf('bye'), { ...writeMeta(), timestamp: String(at - 100) + '.00000', headers: { 'x-delete-at': String(at) } });
    assert.equal(await runExpirerOnce(c), 0);
    assert.equal(await text(c, 'tmp'), 'bye');
    clock.advance(61_000);
    assert.equal(await c.headObject(A, 'c', 'tmp'), null);
    assert.equal((await c.listObjects(A, 'c', { limit: 10 }))?.length, 1, 'listed until the expirer runs');
    assert.equal(await runExpirerOnce(c), 1);
    assert.equal((await c.listObjects(A, 'c', { limit: 10 }))?.length, 0);
  });

  it('the auditor reclaims tombstones older than the reclaim age', async () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const c = await cluster(1, { clock });
    const t0 = Math.floor(clock.now().getTime() / 1000);
    await c.putObject(A, 'c', 'gone', bodyOf('x'), { ...writeMeta(), timestamp: `${t0}.00000` });
    await c.deleteObject(A, 'c', 'gone', `${t0 + 1}.00000`);
    const dir = replicaDirs(c, 'gone')[0]!;
    assert.deepEqual(readdirSync(dir), [`${t0 + 1}.00000.ts`]);
    assert.equal((await runAuditorOnce(c)).reclaimed, 0);
    clock.advance(8 * 24 * 3600 * 1000);
    assert.equal((await runAuditorOnce(c)).reclaimed, 1);
    assert.equal(existsSync(dir), false);
  });

  it('kill -9 during an upload: the previous version survives, nothing half-written is visible', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nubes-kill-'));
    const root = join(dir, 'object-store');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.fixture.ts', import.meta.url)), root], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('streaming')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const c = await createLocalCluster({ root, replicas: 3, partPower: 4 });
      try {
        const got = await c.getObject('AUTH_k', 'c', 'o');
        assert.equal((await readAll(got!.body)).toString(), 'committed');
        const leftovers = c.localDisks().flatMap((d) => readdirSync(d.tmpDir));
        assert.ok(leftovers.length > 0, 'the interrupted upload only ever existed as temp files');
        const listing = await c.listObjects('AUTH_k', 'c', { limit: 10 });
        assert.equal(listing?.length, 1);
        assert.equal((listing![0] as { bytes: number }).bytes, 9);
      } finally {
        c.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
