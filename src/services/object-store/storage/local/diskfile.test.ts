import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { md5, readAll } from '../contract.test-suite.js';
import { diskWorkers, DiskWorkerPool } from './disk-worker.js';
import { CorruptObject, FIRST_READ, ObjectDisk, SMALL_OBJECT_BYTES, StaleWrite, type DataMeta } from './diskfile.js';

const HASH = '0123456789abcdef0123456789abcdef';
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function disk(): ObjectDisk {
  const root = mkdtempSync(join(tmpdir(), 'nubes-disk-'));
  const d = new ObjectDisk(0, root);
  cleanup.push(() => {
    d.close();
    rmSync(root, { recursive: true, force: true });
  });
  return d;
}

let clock = 1700000000;
const ts = () => `${clock++}.00000`;

function meta(body: Buffer, timestamp: string, headers: Record<string, string> = {}): DataMeta {
  return { name: 'o', account: 'AUTH_a', container: 'c', timestamp, contentType: 'application/octet-stream', etag: md5(body), size: body.length, headers };
}

async function put(d: ObjectDisk, body: Buffer, chunk = 4096, headers: Record<string, string> = {}): Promise<string> {
  const t = ts();
  const w = await d.createWriter(1, HASH);
  for (let at = 0; at < body.length; at += chunk) await w.write(body.subarray(at, at + chunk));
  await w.commit(meta(body, t, headers));
  return t;
}

async function bytes(d: ObjectDisk, range?: { start: number; end: number }): Promise<{ body: Buffer; inline: boolean }> {
  const s = await d.readState(1, HASH);
  assert.ok(s && s.kind === 'data');
  const body = s.inline ? (range ? s.inline.subarray(range.start, range.end) : s.inline) : await readAll(await d.openData(1, HASH, s.dataName, s.meta.size, range));
  return { body, inline: s.inline !== undefined };
}

for (const mode of ['disk workers', 'fs/promises only'] as const) {
  describe(`object disk, small-object path (${mode})`, () => {
    const saved = { ...diskWorkers };
    const setup = () => {
      if (mode === 'fs/promises only') {
        diskWorkers.writes = new DiskWorkerPool(0);
        diskWorkers.reads = new DiskWorkerPool(0);
        cleanup.push(() => Object.assign(diskWorkers, saved));
      }
      return disk();
    };

    it('bodies of every size around the in-memory and first-read limits read back whole and by range', async () => {
      const d = setup();
      for (const size of [0, 1, 4096, FIRST_READ - 230, FIRST_READ - 200, FIRST_READ - 180, FIRST_READ, FIRST_READ + 1, 40_000, SMALL_OBJECT_BYTES, SMALL_OBJECT_BYTES + 1, 300_000]) {
        const body = Buffer.alloc(size);
        for (let i = 0; i < size; i++) body[i] = (i * 31 + size) & 0xff;
        await put(d, body, 10_000);
        const whole = await bytes(d);
        assert.ok(whole.body.equals(body), `${size} bytes read back`);
        const fileSize = statSync(d.filePath(1, HASH, readdirSync(d.hashDir(1, HASH))[0]!)).size;
        assert.equal(whole.inline, fileSize <= FIRST_READ, `${size} bytes: read with the footer in one go only when small`);
        if (size > 10) assert.ok((await bytes(d, { start: 3, end: size - 2 })).body.equals(body.subarray(3, size - 2)), `${size} bytes, a range`);
        // only the newest data file is kept, and no temp file is left behind
        assert.equal(readdirSync(d.hashDir(1, HASH)).length, 1);
        assert.deepEqual(existsSync(d.tmpDir) ? readdirSync(d.tmpDir) : [], []);
      }
    });

    it('a footer longer than the first read (large metadata) is still found', async () => {
      const d = setup();
      const body = Buffer.from('tiny');
      await put(d, body, 4096, { 'x-object-meta-big': 'x'.repeat(40_000) });
      const s = await d.readState(1, HASH);
      assert.ok(s && s.kind === 'data');
      assert.equal(s.meta.headers['x-object-meta-big']?.length, 40_000);
      assert.equal(s.meta.size, 4);
      assert.equal((await bytes(d)).body.toString(), 'tiny');
    });

    it('tombstones and .meta files: newest wins, obsolete files are removed at commit', async () => {
      const d = setup();
      await put(d, Buffer.from('v1'));
      const post = ts();
      await d.putFile(1, HASH, `${post}.meta`, JSON.stringify({ timestamp: post, headers: { 'x-object-meta-a': '1' } }));
      let s = await d.readState(1, HASH);
      assert.ok(s && s.kind === 'data' && s.post?.headers['x-object-meta-a'] === '1');
      assert.equal(s.timestamp, post);
      const v2 = await put(d, Buffer.from('v2'));
      s = await d.readState(1, HASH);
      assert.ok(s && s.kind === 'data' && s.post === undefined, 'an older .meta does not apply to newer data');
      assert.deepEqual(readdirSync(d.hashDir(1, HASH)), [`${v2}.data`]);
      const gone = ts();
      await d.putFile(1, HASH, `${gone}.ts`, JSON.stringify({ name: 'o', account: 'AUTH_a', container: 'c', timestamp: gone }));
      s = await d.readState(1, HASH);
      assert.ok(s && s.kind === 'tombstone' && s.tombstone.timestamp === gone);
      assert.deepEqual(readdirSync(d.hashDir(1, HASH)), [`${gone}.ts`]);
    });

    it('truncated or garbled data files are CorruptObject, never served', async () => {
      const d = setup();
      for (const size of [100, 50_000]) {
        await put(d, Buffer.alloc(size, 1));
        const s = await d.readState(1, HASH);
        assert.ok(s && s.kind === 'data');
        const path = d.filePath(1, HASH, s.dataName);
        const whole = readFileSync(path);
        truncateSync(path, whole.length - 3);
        await assert.rejects(d.readState(1, HASH), CorruptObject, `${size}: truncated`);
        writeFileSync(path, Buffer.concat([whole.subarray(0, whole.length - 8), Buffer.from('\0\0\0\x05NBO1')]));
        await assert.rejects(d.readState(1, HASH), CorruptObject, `${size}: footer length and size disagree`);
        writeFileSync(path, Buffer.alloc(3));
        await assert.rejects(d.readState(1, HASH), CorruptObject, `${size}: too short`);
        rmSync(d.hashDir(1, HASH), { recursive: true });
      }
    });

    it('concurrent writes to many objects and to one object: all land, the newest wins', async () => {
      const d = setup();
      const hashes = Array.from({ length: 24 }, (_, i) => i.toString(16).padStart(32, 'a'));
      const stamps = hashes.map(() => ts());
      await Promise.all(
        hashes.map(async (h, i) => {
          const w = await d.createWriter(i % 3, h);
          const body = Buffer.from(`object ${i}`);
          await w.write(body);
          await w.commit(meta(body, stamps[i]!));
        }),
      );
      for (const [i, h] of hashes.entries()) {
        const s = await d.readState(i % 3, h);
        assert.ok(s && s.kind === 'data' && s.inline?.toString() === `object ${i}`);
      }
      const versions = Array.from({ length: 8 }, () => ts());
      const outcomes = await Promise.allSettled(
        versions.map(async (t, i) => {
          const w = await d.createWriter(1, HASH);
          const body = Buffer.from(`version ${i}`);
          await w.write(body);
          await w.commit(meta(body, t)).catch(async (err: unknown) => {
            await w.abort();
            throw err;
          });
        }),
      );
      // an older version committing after a newer one is refused (last write wins), never an error of another kind
      assert.equal(outcomes[7]!.status, 'fulfilled');
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof StaleWrite, String(o.reason));
      const s = await d.readState(1, HASH);
      assert.ok(s && s.kind === 'data');
      assert.equal(s.inline?.toString(), 'version 7');
      // a write that lost the race may commit after the cleanup of the winner; the next cleanup takes it
      await d.cleanup(1, HASH);
      assert.deepEqual(readdirSync(d.hashDir(1, HASH)), [`${versions[7]}.data`]);
    });

    it('a commit older than (or as old as) what the device holds is refused and changes nothing, small or spilled', async () => {
      const d = setup();
      const newer = await put(d, Buffer.from('newest'));
      for (const [size, stamp] of [[10, `${Number(newer.slice(0, 10)) - 1}.00000`], [SMALL_OBJECT_BYTES * 2, newer]] as const) {
        const w = await d.createWriter(1, HASH);
        const body = Buffer.alloc(size, 7);
        await w.write(body);
        await assert.rejects(w.commit(meta(body, stamp)), StaleWrite);
        await w.abort();
      }
      assert.deepEqual(readdirSync(d.hashDir(1, HASH)), [`${newer}.data`]);
      assert.deepEqual(existsSync(d.tmpDir) ? readdirSync(d.tmpDir) : [], [], 'no temp file is left behind');
      assert.equal((await bytes(d)).body.toString(), 'newest');
    });

    it('an aborted writer leaves nothing, whether it held the body in memory or had spilled it', async () => {
      const d = setup();
      for (const size of [10, SMALL_OBJECT_BYTES * 2]) {
        const w = await d.createWriter(1, HASH);
        await w.write(Buffer.alloc(size));
        await w.abort();
      }
      assert.deepEqual(existsSync(d.tmpDir) ? readdirSync(d.tmpDir) : [], []);
      assert.equal(await d.readState(1, HASH), null);
    });

    it('a device directory that disappeared is never recreated by a write', async () => {
      const d = setup();
      rmSync(d.root, { recursive: true });
      const w = await d.createWriter(1, HASH).catch(() => null);
      if (w) {
        await w.write(Buffer.from('x'));
        await assert.rejects(w.commit(meta(Buffer.from('x'), ts())));
      }
      assert.equal(existsSync(d.root), false);
    });
  });
}

describe('intent records', () => {
  it('are rows that outlive the process holding them, listed with file pendings and dropped by id', async () => {
    const d = disk();
    const row = { name: 'o', createdAt: '1700000000.00000', size: 1, contentType: 'x', etag: md5('x'), deleted: false };
    const intent = await d.saveAsyncPending({ account: 'AUTH_a', container: 'c', row, intent: { savedAt: Date.now() } });
    const pending = await d.saveAsyncPending({ account: 'AUTH_a', container: 'c', row: { ...row, createdAt: '1700000001.00000' } });
    assert.match(intent, /\.intent$/);
    assert.ok(!existsSync(join(d.root, 'async_pending', intent)), 'an intent is no file');
    assert.ok(existsSync(join(d.root, 'async_pending', pending)), 'a confirmed pending is an fsynced file');
    // another handle on the same device (a restarted process) sees both
    const other = new ObjectDisk(0, d.root);
    cleanup.push(() => other.close());
    assert.deepEqual((await other.asyncPendings(10)).map((p) => p.id).sort(), [intent, pending].sort());
    assert.deepEqual((await other.asyncPendings(1)).length, 1, 'the limit covers both kinds');
    await other.dropAsyncPending(intent);
    await other.dropAsyncPending(pending);
    assert.deepEqual(await d.asyncPendings(10), []);
  });

  it('intent files left by an older version are still listed and dropped', async () => {
    const d = disk();
    const id = `cde/${'f'.repeat(29)}cde-1700000000.00000.intent`;
    const row = { name: 'o', createdAt: '1700000000.00000', size: 1, contentType: 'x', etag: md5('x'), deleted: false };
    mkdirSync(join(d.root, 'async_pending', 'cde'), { recursive: true });
    writeFileSync(join(d.root, 'async_pending', id), JSON.stringify({ account: 'AUTH_a', container: 'c', row, intent: { savedAt: 1 } }));
    assert.deepEqual((await d.asyncPendings(10)).map((p) => p.id), [id]);
    await d.dropAsyncPending(id);
    assert.deepEqual(await d.asyncPendings(10), []);
  });
});
