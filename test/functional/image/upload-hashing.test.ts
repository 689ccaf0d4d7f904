import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { sharedHashPool } from '../../../src/common/hashing/pool.js';
import { imageClient } from './import-helpers.js';

const MiB = 1024 * 1024;
const CAP = 6 * MiB;

/**
 * Uploads and imports large enough to be hashed on the worker threads (more than one 1 MiB batch),
 * streamed over a real socket in uneven pieces: the digests must be exactly node:crypto's, and an
 * upload that fails half-way must leave no hashing session behind.
 */
describe('image data hashed off the main thread', () => {
  let t: TestCloud;
  let admin: string;
  let port: number;
  const img = () => imageClient(t, admin);

  before(async () => {
    t = await startTestCloud({ set: { 'image.user_storage_quota': 0, 'image.image_size_cap': CAP } });
    t.cloud.startWorkers();
    admin = await t.adminToken();
    await t.cloud.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.cloud.app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => t.close());

  /** PUTs `data` in `piece`-sized writes; `cut` destroys the socket after that many bytes. */
  const put = (id: string, data: Buffer, piece: number, opts: { chunked?: boolean; cut?: number } = {}) =>
    new Promise<{ status: number; body: string }>((resolve) => {
      const headers: Record<string, string | number> = { 'x-auth-token': admin, 'content-type': 'application/octet-stream' };
      if (!opts.chunked) headers['content-length'] = data.length;
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/image/v2/images/${id}/file`, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      // A server that refuses mid-stream may close before the client has sent everything.
      req.on('error', (err) => resolve({ status: 0, body: String(err) }));
      let at = 0;
      const pump = (): void => {
        while (at < data.length) {
          if (opts.cut !== undefined && at >= opts.cut) {
            req.destroy();
            return;
          }
          const ok = req.write(data.subarray(at, at + piece));
          at += piece;
          if (!ok) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });

  const settled = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const image = await img().show(id);
      if (image.status !== 'saving') return image;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`image ${id} stuck in saving`);
  };

  const sessionsDrained = async () => {
    for (let i = 0; i < 200 && sharedHashPool().sessions > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(sharedHashPool().sessions, 0, 'hashing sessions left open');
  };

  const storedFiles = (id: string) => {
    const walk = (dir: string): string[] => {
      try {
        return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [e.name]));
      } catch {
        return [];
      }
    };
    return walk(join(t.config.server.data_dir, 'images')).filter((name) => name.includes(id));
  };

  test('uploads of many sizes and piece sizes get node:crypto\'s checksum and os_hash_value', async () => {
    const cases: [number, number][] = [
      [0, 1],
      [MiB - 1, 65_536],
      [MiB, 1000],
      [MiB + 1, MiB],
      [3 * MiB + 12_345, 7_777],
      [5 * MiB, 4 * MiB],
    ];
    for (const [size, piece] of cases) {
      const id = await img().create();
      const data = randomBytes(size);
      const res = await put(id, data, piece);
      assert.equal(res.status, 204, `${size}/${piece}: ${res.body}`);
      const image = await img().show(id);
      assert.equal(image.status, 'active');
      assert.equal(image.size, size);
      assert.equal(image.checksum, createHash('md5').update(data).digest('hex'), `checksum of ${size} bytes in ${piece}-byte pieces`);
      assert.equal(image.os_hash_algo, 'sha512');
      assert.equal(image.os_hash_value, createHash('sha512').update(data).digest('hex'), `sha512 of ${size} bytes in ${piece}-byte pieces`);
      const got = await img().raw('GET', `/v2/images/${id}/file`);
      assert.ok(got.raw.equals(data));
    }
    await sessionsDrained();
  });

  test('a client gone half-way leaves the image queued, no data, no hashing session', async () => {
    const id = await img().create();
    const res = await put(id, randomBytes(5 * MiB), 64 * 1024, { cut: 3 * MiB });
    assert.notEqual(res.status, 204);
    const image = await settled(id);
    assert.equal(image.status, 'queued');
    assert.equal(image.checksum, null);
    assert.deepEqual(storedFiles(id), []);
    await sessionsDrained();
  });

  test('a chunked body past image_size_cap is 413 mid-stream and leaves no hashing session', async () => {
    const id = await img().create();
    const res = await put(id, randomBytes(CAP + MiB), 256 * 1024, { chunked: true });
    // The server may answer and close before the client finishes sending: either way, never stored.
    if (res.status !== 0) assert.equal(res.status, 413, res.body);
    const image = await settled(id);
    assert.equal(image.status, 'queued');
    assert.deepEqual(storedFiles(id), []);
    await sessionsDrained();
  });

  test('glance-direct import of a multi-MiB image computes the same digests', async () => {
    const id = await img().create();
    const data = randomBytes(2 * MiB + 3);
    await img().stage(id, data);
    const res = await img().import(id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 202, res.text);
    const image = await img().waitFor(id, (i) => i.status === 'active', 'active');
    assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(image.os_hash_value, createHash('sha512').update(data).digest('hex'));
    assert.equal(image.size, data.length);
    await sessionsDrained();
  });
});
