/**
 * The ImageStore contract, run against every driver (filesystem.test.ts, memory.test.ts).
 * Not a test file itself: each driver's test calls runStoreContract with a factory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ImageStore } from './types.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function failingStream(prefix: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(prefix);
      } else {
        this.destroy(new Error('client went away'));
      }
    },
  });
}

export function runStoreContract(name: string, make: () => Promise<{ store: ImageStore; cleanup(): Promise<void> }>): void {
  const withStore = (title: string, fn: (store: ImageStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await make();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    });

  withStore('put then get returns the same bytes and size', async (store) => {
    const body = Buffer.from('hello image data'.repeat(1000));
    const { size } = await store.put('img1', Readable.from([body.subarray(0, 100), body.subarray(100)]));
    assert.equal(size, body.length);
    assert.deepEqual(await readAll(await store.get('img1')), body);
    assert.deepEqual(await store.stat('img1'), { size: body.length });
    assert.deepEqual(await store.list(), ['img1']);
  });

  withStore('ranges are inclusive', async (store) => {
    await store.put('r', Readable.from([Buffer.from('0123456789')]));
    assert.equal((await readAll(await store.get('r', { start: 2, end: 5 }))).toString(), '2345');
  });

  withStore('a failed put leaves nothing behind and keeps the previous object', async (store) => {
    await assert.rejects(store.put('x', failingStream(Buffer.from('partial'))));
    assert.equal(await store.stat('x'), null);
    assert.deepEqual(await store.list(), []);
    await store.put('y', Readable.from([Buffer.from('old')]));
    await assert.rejects(store.put('y', failingStream(Buffer.from('new'))));
    assert.equal((await readAll(await store.get('y'))).toString(), 'old');
  });

  withStore('missing objects: get rejects, stat is null, delete succeeds', async (store) => {
    await assert.rejects(store.get('nope'), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
    assert.equal(await store.stat('nope'), null);
    await store.delete('nope');
    await store.put('d', Readable.from([Buffer.from('x')]));
    await store.delete('d');
    await store.delete('d');
    assert.equal(await store.stat('d'), null);
  });

  withStore('location URLs name their key and no other store\'s', async (store) => {
    const url = store.locationUrl('img-7');
    assert.equal(store.keyOf(url), 'img-7');
    assert.equal(store.keyOf('http://127.0.0.1/other/img-7'), null);
    assert.equal(store.keyOf(`${url}/../x`), null);
  });

  withStore('a large put streams through and ranges cross chunk boundaries', async (store) => {
    const body = Buffer.alloc(3 * 65536 + 123);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
    const parts = [];
    for (let at = 0; at < body.length; at += 10_000) parts.push(body.subarray(at, at + 10_000));
    assert.equal((await store.put('big', Readable.from(parts))).size, body.length);
    assert.deepEqual(await readAll(await store.get('big')), body);
    assert.deepEqual(await readAll(await store.get('big', { start: 65530, end: 131080 })), body.subarray(65530, 131081));
    await store.put('big', Readable.from([Buffer.from('small now')]));
    assert.equal((await readAll(await store.get('big'))).toString(), 'small now');
    assert.deepEqual(await store.stat('big'), { size: 9 });
  });

  withStore('an empty put stores an empty object', async (store) => {
    assert.equal((await store.put('empty', Readable.from([]))).size, 0);
    assert.equal((await readAll(await store.get('empty'))).length, 0);
    assert.deepEqual(await store.stat('empty'), { size: 0 });
  });

  withStore('an aborted put rejects and leaves no object', async (store) => {
    const controller = new AbortController();
    const data = new Readable({ read() { /* never ends until aborted */ } });
    data.push(Buffer.from('abc'));
    const putting = store.put('a', data, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(putting);
    assert.equal(await store.stat('a'), null);
    assert.equal(await store.cleanupPartial() >= 0, true);
  });
}
