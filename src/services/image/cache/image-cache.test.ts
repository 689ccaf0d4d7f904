import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createLogger } from '../../../common/log.js';
import { ImageCache } from './image-cache.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
async function text(stream: Readable | null): Promise<string> {
  assert.ok(stream);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

describe('ImageCache', () => {
  let dir: string;
  let clock: number;
  let cache: ImageCache;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nubes-cache-'));
    clock = 1_000_000;
    cache = new ImageCache(dir, 100, createLogger('silent'), () => new Date((clock += 1000)));
    await cache.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('stores verified bytes, serves them and counts hits', async () => {
    assert.equal(await cache.store('img-1', Readable.from(['hello']), { size: 5, checksum: md5('hello') }), true);
    assert.equal(await text(await cache.open('img-1')), 'hello');
    assert.equal(await text(await cache.open('img-1', { start: 1, end: 2 })), 'el');
    const [entry] = await cache.list();
    assert.equal(entry?.hits, 2);
    assert.equal(entry?.size, 5);
    assert.equal(await cache.store('img-1', Readable.from(['again']), { size: 5, checksum: null }), false, 'already cached');
  });

  test('discards bytes that do not match the image (size or md5) and leaves no partial file', async () => {
    assert.equal(await cache.store('a', Readable.from(['hello']), { size: 6, checksum: null }), false);
    assert.equal(await cache.store('b', Readable.from(['hello']), { size: 5, checksum: md5('other') }), false);
    assert.deepEqual(await cache.list(), []);
    assert.deepEqual(readdirSync(join(dir, 'incomplete')), []);
  });

  test('evicts least recently used images to stay under the size limit; refuses larger images', async () => {
    await cache.store('old', Readable.from(['x'.repeat(40)]), { size: 40, checksum: null });
    await cache.store('mid', Readable.from(['y'.repeat(40)]), { size: 40, checksum: null });
    await text(await cache.open('old'));
    await cache.store('new', Readable.from(['z'.repeat(40)]), { size: 40, checksum: null });
    assert.deepEqual((await cache.list()).map((e) => e.image_id), ['new', 'old']);
    assert.equal(await cache.store('huge', Readable.from(['h'.repeat(101)]), { size: 101, checksum: null }), false);
  });

  test('a failing source rejects and leaves nothing; ids that are not file names are never touched', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('source broke')); } });
    await assert.rejects(cache.store('f', failing, { size: 5, checksum: null }), /source broke/);
    assert.deepEqual(readdirSync(join(dir, 'incomplete')), []);
    writeFileSync(join(dir, 'secret'), 'x');
    assert.equal(await cache.open('../secret'), null);
    assert.equal(await cache.queue('../../etc'), false);
    await cache.delete('..');
    assert.ok(existsSync(join(dir, 'secret')));
  });

  test('the tee keeps a copy only of a complete pass; a broken one is dropped', async () => {
    const out: Buffer[] = [];
    await pipeline(Readable.from(['ab', 'cd']), cache.tee('t1', { size: 4, checksum: md5('abcd') }), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    });
    assert.equal(Buffer.concat(out).toString(), 'abcd');
    for (let i = 0; i < 50 && !(await cache.isCached('t1')); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(await cache.isCached('t1'));
    const tee = cache.tee('t2', { size: 4, checksum: null });
    tee.write(Buffer.from('ab'));
    tee.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await cache.isCached('t2'), false);
    assert.deepEqual(readdirSync(join(dir, 'incomplete')), []);
  });

  test('queue order is oldest first; clearing counts; init drops half-written files', async () => {
    assert.equal(await cache.queue('q1'), true);
    await new Promise((r) => setTimeout(r, 15));
    await cache.queue('q2');
    assert.deepEqual(await cache.queued(), ['q1', 'q2']);
    assert.equal(await cache.clearQueued(), 2);
    writeFileSync(join(dir, 'incomplete', 'crashed'), 'x');
    await cache.init();
    assert.deepEqual(readdirSync(join(dir, 'incomplete')), []);
  });
});
