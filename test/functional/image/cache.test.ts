import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const OCTET = { 'content-type': 'application/octet-stream' };

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('image cache (/v2/cache)', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;

  const newImage = async (data: string | null, token = admin): Promise<string> => {
    const image = await t.request('POST', '/image/v2/images', { token, body: { name: 'c', disk_format: 'raw', container_format: 'bare' } });
    assert.equal(image.status, 201, image.text);
    if (data !== null) {
      const put = await t.request('PUT', `/image/v2/images/${image.json.id}/file`, { token, rawBody: data, headers: OCTET });
      assert.equal(put.status, 204, put.text);
    }
    return image.json.id as string;
  };
  const state = async () => (await t.request('GET', '/image/v2/cache', { token: admin })).json as { cached_images: { image_id: string; hits: number; size: number }[]; queued_images: string[] };
  const cachedIds = async () => (await state()).cached_images.map((c) => c.image_id);

  before(async () => {
    t = await startTestCloud({ set: { 'image.image_cache_max_size': 100 } });
    admin = await t.adminToken();
    demo = (await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } })).token;
  });
  after(async () => t.close());

  test('only admins manage the cache; bad targets are 400/404', async () => {
    assert.equal((await t.request('GET', '/image/v2/cache', { token: demo })).status, 403);
    assert.equal((await t.request('DELETE', '/image/v2/cache', { token: demo })).status, 403);
    const empty = await t.request('GET', '/image/v2/cache', { token: admin });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json, { cached_images: [], queued_images: [] });
    assert.equal((await t.request('PUT', '/image/v2/cache/non-existing-image-id', { token: admin })).status, 404);
    assert.equal((await t.request('PUT', '/image/v2/cache/..%2F..%2Fetc', { token: admin })).status, 404);
    assert.equal((await t.request('DELETE', '/image/v2/cache/non-existing-image-id', { token: admin })).status, 404);
    const queued = await newImage(null);
    assert.equal((await t.request('PUT', `/image/v2/cache/${queued}`, { token: admin })).status, 400);
    assert.equal((await t.request('DELETE', '/image/v2/cache', { token: admin, headers: { 'x-image-cache-clear-target': 'invalid' } })).status, 400);
  });

  test('queueing prefetches the image; downloads are then served from the cache (hits, ranges)', async () => {
    const id = await newImage('0123456789'.repeat(5));
    const put = await t.request('PUT', `/image/v2/cache/${id}`, { token: admin });
    assert.equal(put.status, 202);
    await waitFor('prefetch', async () => (await cachedIds()).includes(id));
    assert.deepEqual((await state()).queued_images, []);
    const download = await t.request('GET', `/image/v2/images/${id}/file`, { token: admin });
    assert.equal(download.text, '0123456789'.repeat(5));
    const range = await t.request('GET', `/image/v2/images/${id}/file`, { token: admin, headers: { range: 'bytes=2-4' } });
    assert.equal(range.status, 206);
    assert.equal(range.text, '234');
    const entry = (await state()).cached_images.find((c) => c.image_id === id);
    assert.equal(entry?.hits, 2);
    assert.equal(entry?.size, 50);
    assert.equal((await t.request('DELETE', `/image/v2/cache/${id}`, { token: admin })).status, 204);
    assert.ok(!(await cachedIds()).includes(id));
  });

  test('a whole download fills the cache; size limit evicts the least recently used; oversize is not cached', async () => {
    await t.request('DELETE', '/image/v2/cache', { token: admin });
    const a = await newImage('a'.repeat(60));
    const b = await newImage('b'.repeat(60));
    const big = await newImage('c'.repeat(150));
    assert.equal((await t.request('GET', `/image/v2/images/${a}/file`, { token: admin })).text, 'a'.repeat(60));
    await waitFor('tee of a', async () => (await cachedIds()).includes(a));
    // A range download does not fill the cache.
    await t.request('GET', `/image/v2/images/${b}/file`, { token: admin, headers: { range: 'bytes=0-9' } });
    assert.ok(!(await cachedIds()).includes(b));
    assert.equal((await t.request('GET', `/image/v2/images/${b}/file`, { token: admin })).text, 'b'.repeat(60));
    await waitFor('tee of b', async () => (await cachedIds()).includes(b));
    assert.ok(!(await cachedIds()).includes(a), 'a was evicted to make room for b');
    assert.equal((await t.request('GET', `/image/v2/images/${big}/file`, { token: admin })).text.length, 150);
    assert.equal((await t.request('PUT', `/image/v2/cache/${big}`, { token: admin })).status, 202);
    await waitFor('queue drained', async () => (await state()).queued_images.length === 0);
    assert.deepEqual(await cachedIds(), [b]);
  });

  test('clear targets: queue only, cache only, both; deleting an image drops its cached copy', async () => {
    const id = await newImage('x'.repeat(20));
    await t.request('GET', `/image/v2/images/${id}/file`, { token: admin });
    await waitFor('cached', async () => (await cachedIds()).includes(id));
    assert.equal((await t.request('DELETE', '/image/v2/cache', { token: admin, headers: { 'x-image-cache-clear-target': 'queue' } })).status, 204);
    assert.ok((await cachedIds()).includes(id));
    assert.equal((await t.request('DELETE', `/image/v2/images/${id}`, { token: admin })).status, 204);
    await waitFor('dropped with the image', async () => !(await cachedIds()).includes(id));
    const dir = join(t.config.server.data_dir, 'image-cache');
    assert.ok(!existsSync(join(dir, id)));
    const other = await newImage('y'.repeat(20));
    await t.request('GET', `/image/v2/images/${other}/file`, { token: admin });
    await waitFor('cached', async () => (await cachedIds()).includes(other));
    assert.equal((await t.request('DELETE', '/image/v2/cache', { token: admin, headers: { 'x-image-cache-clear-target': 'cache' } })).status, 204);
    assert.deepEqual(await state(), { cached_images: [], queued_images: [] });
  });
});
