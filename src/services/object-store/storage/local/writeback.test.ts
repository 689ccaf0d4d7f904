import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ObjectDisk, type DataMeta } from './diskfile.js';

const MiB = 1024 * 1024;

function meta(data: Buffer, ts: string): DataMeta {
  return { name: 'o', account: 'AUTH_a', container: 'c', timestamp: ts, contentType: 'application/octet-stream', etag: createHash('md5').update(data).digest('hex'), size: data.length, headers: {} };
}

/** Counts (and can fail) every datasync of every FileHandle while `fn` runs. */
async function withDatasync<T>(fail: (call: number) => boolean, fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const probe = await open(fileURLToPath(import.meta.url), 'r');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let calls = 0;
  proto.datasync = function (this: unknown) {
    calls += 1;
    if (fail(calls)) return Promise.reject(Object.assign(new Error('EIO: simulated'), { code: 'EIO' }));
    return original.call(this);
  };
  try {
    return { result: await fn(), calls };
  } finally {
    proto.datasync = original;
  }
}

describe('DataWriter write-back of large bodies', () => {
  let dir: string;
  let disk: ObjectDisk;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nubes-wb-'));
    mkdirSync(join(dir, 'd0'));
    disk = new ObjectDisk(0, join(dir, 'd0'));
  });
  after(() => {
    disk.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flushes in the background while a large body arrives, and the object reads back whole', async () => {
    const data = randomBytes(20 * MiB);
    const { calls } = await withDatasync(
      () => false,
      async () => {
        const w = await disk.createWriter(1, 'a'.repeat(32));
        for (let at = 0; at < data.length; at += MiB) await w.write(data.subarray(at, at + MiB));
        await w.commit(meta(data, '1700000000.00001'));
      },
    );
    assert.ok(calls >= 2, `background datasyncs ran before the commit's own (${calls} in all)`);
    const state = await disk.readState(1, 'a'.repeat(32));
    assert.equal(state?.kind, 'data');
    const body = await disk.openData(1, 'a'.repeat(32), (state as { dataName: string }).dataName, data.length);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    assert.ok(chunks.every((c) => c.length <= MiB));
    assert.deepEqual(Buffer.concat(chunks), data);
  });

  it('a background flush that failed fails the commit, and nothing becomes visible', async () => {
    const data = randomBytes(12 * MiB);
    const hash = 'b'.repeat(32);
    await withDatasync(
      (call) => call === 1,
      async () => {
        const w = await disk.createWriter(1, hash);
        for (let at = 0; at < data.length; at += MiB) await w.write(data.subarray(at, at + MiB));
        await assert.rejects(w.commit(meta(data, '1700000000.00002')), /EIO/);
        await w.abort();
      },
    );
    assert.equal(await disk.readState(1, hash), null);
    assert.deepEqual(readdirSync(disk.tmpDir), []);
  });
});
