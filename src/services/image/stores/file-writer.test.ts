import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { writeStreamToFile } from './file-writer.js';

const KiB = 1024;

describe('writeStreamToFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-file-writer-'));
  after(() => rm(dir, { recursive: true, force: true }));
  let n = 0;
  const withFile = async <T>(fn: (fd: number, path: string) => Promise<T>): Promise<T> => {
    const path = join(dir, `f${n++}`);
    const fd = openSync(path, 'wx');
    try {
      return await fn(fd, path);
    } finally {
      closeSync(fd);
    }
  };
  const pieces = (data: Buffer, size: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
    return out;
  };

  it('writes every byte in order across batches, flushes and tails', async () => {
    for (const [total, chunk, batch, flush] of [[0, 1, 4, 0], [1, 1, 4, 0], [10 * KiB + 3, 1000, 4 * KiB, 8 * KiB], [100 * KiB, 64 * KiB, 16 * KiB, 1], [33 * KiB, 7, 2 * KiB, 0]] as const) {
      const data = randomBytes(total);
      await withFile(async (fd, path) => {
        const size = await writeStreamToFile(Readable.from(pieces(data, chunk)), fd, { batchBytes: batch, flushEveryBytes: flush });
        assert.equal(size, total);
        assert.deepEqual(readFileSync(path), data, `total ${total}, chunk ${chunk}, batch ${batch}`);
      });
    }
  });

  it('more chunks than one writev takes (IOV_MAX) are written in several calls', async () => {
    const data = randomBytes(3000);
    await withFile(async (fd, path) => {
      assert.equal(await writeStreamToFile(Readable.from(pieces(data, 1)), fd, { batchBytes: 3000 }), 3000);
      assert.deepEqual(readFileSync(path), data);
    });
  });

  it('holds the source back while a batch is written and the next one is full', async () => {
    let produced = 0;
    let maxAhead = 0;
    let fd = -1;
    const source = new Readable({
      highWaterMark: 1,
      read() {
        // How far the source got ahead of the file, seen each time it is asked for more.
        maxAhead = Math.max(maxAhead, produced * KiB - fstatSync(fd).size);
        if (produced >= 256) return void this.push(null);
        produced++;
        this.push(Buffer.alloc(KiB, produced & 0xff));
      },
    });
    const written = await withFile(async (file) => {
      fd = file;
      return writeStreamToFile(source, file, { batchBytes: 16 * KiB });
    });
    assert.equal(written, 256 * KiB);
    assert.ok(maxAhead <= 64 * KiB, `at most two batches plus the stream's buffer are held (${maxAhead})`);
  });

  it('a failing source rejects with its error', async () => {
    let sent = false;
    const source = new Readable({
      read() {
        if (sent) return void this.destroy(new Error('client went away'));
        sent = true;
        this.push(Buffer.alloc(10 * KiB));
      },
    });
    await withFile((fd) => assert.rejects(writeStreamToFile(source, fd, { batchBytes: 4 * KiB }), /client went away/));
  });

  it('a source destroyed without an error (a client that left) rejects', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(KiB));
    setTimeout(() => source.destroy(), 5);
    await withFile((fd) => assert.rejects(writeStreamToFile(source, fd), /closed before its end/));
    const gone = new Readable({ read() {} });
    gone.destroy();
    await withFile((fd) => assert.rejects(writeStreamToFile(gone, fd), /closed before its end/));
  });

  it('an abort destroys the source and rejects; a write error does too', async () => {
    const controller = new AbortController();
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(KiB));
    const writing = withFile((fd) => writeStreamToFile(source, fd, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('stop now')), 5);
    await assert.rejects(writing, /stop now/);
    assert.equal(source.destroyed, true);
    const readOnly = join(dir, 'ro');
    closeSync(openSync(readOnly, 'w'));
    const fd = openSync(readOnly, 'r');
    const data = Readable.from([Buffer.alloc(8 * KiB)]);
    try {
      await assert.rejects(writeStreamToFile(data, fd, { batchBytes: KiB }), /EBADF/);
    } finally {
      closeSync(fd);
    }
    assert.equal(data.destroyed, true);
  });
});
