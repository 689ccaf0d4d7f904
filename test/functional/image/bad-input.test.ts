import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
const JSON_FAULT = { accept: 'application/json' };

/** Every file under a directory (the image stores' data, their temp files included). */
function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('image: bad input gets Glance\'s 4xx and changes nothing', () => {
  let t: TestCloud;
  let admin: string;
  let port: number;
  const dataFiles = () => filesUnder(join(t.config.server.data_dir, 'images'));
  const show = async (id: string) => (await t.request('GET', `/image/v2/images/${id}`, { token: admin })).json;
  const imageCount = async () => Number((await t.cloud.db.typed<{ image_images: { id: string } }>().selectFrom('image_images').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n);
  const create = async (body: Record<string, unknown> = { name: 'bad-input', disk_format: 'raw', container_format: 'bare' }) => {
    const res = await t.request('POST', '/image/v2/images', { token: admin, body });
    assert.equal(res.status, 201, res.text);
    return res.json.id as string;
  };
  /** Waits until the image leaves `saving` (an interrupted upload is cleaned up after the socket closes). */
  const settled = async (id: string) => {
    for (let i = 0; i < 100; i++) {
      const image = await show(id);
      if (image.status !== 'saving') return image;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`image ${id} stuck in saving`);
  };

  before(async () => {
    t = await startTestCloud({ set: { 'image.user_storage_quota': 0 } });
    admin = await t.adminToken();
    await t.cloud.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.cloud.app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => t.close());

  test('create: wrong formats, oversized names, keys, values and tags are 400 and create nothing', async () => {
    const before = await imageCount();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ disk_format: 'floppy' }, /does not match schema|is not one of/],
      [{ container_format: 'tarball' }, /is not one of/],
      [{ disk_format: 5 }, /is not one of/],
      [{ name: 'n'.repeat(256) }, /is too long/],
      [{ ['k'.repeat(256)]: 'v' }, /Custom property should not be greater than 255 characters/],
      [{ prop: 'v'.repeat(65536) }, /too long/],
      [{ prop: 7 }, /is not of type 'string'/],
      [{ tags: ['t'.repeat(256)] }, /is too long/],
      [{ tags: 'x86' }, /is not of type 'array'/],
      [{ min_ram: -1 }, /less than the minimum/],
      [{ visibility: 'everyone' }, /is not one of/],
      [{ id: 'not-a-uuid' }, /does not match/],
    ];
    for (const [body, message] of cases) {
      const res = await t.request('POST', '/image/v2/images', { token: admin, body, headers: JSON_FAULT });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 60)}: ${res.text.slice(0, 200)}`);
      assert.match(res.json.message, message);
      assert.equal(res.json.code, '400 Bad Request');
    }
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, rawBody: '{"name": "x",', headers: JSON_FAULT })).status, 400);
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: ['x'], headers: JSON_FAULT })).status, 400);
    assert.equal(await imageCount(), before);
    // The limits themselves are accepted.
    const edge = await create({ ['k'.repeat(255)]: 'v'.repeat(65535), name: 'n'.repeat(255), tags: ['t'.repeat(255)] });
    assert.equal((await show(edge))['k'.repeat(255)], 'v'.repeat(65535));
  });

  test('patch: 415 for other content types, 400 for malformed documents; the image is unchanged', async () => {
    const id = await create({ name: 'patched', disk_format: 'raw', container_format: 'bare', keep: 'me' });
    const before = await show(id);
    const patch = (raw: string, headers: Record<string, string> = PATCH) => t.request('PATCH', `/image/v2/images/${id}`, { token: admin, rawBody: raw, headers: { ...headers, ...JSON_FAULT } });
    assert.equal((await patch('[]', { 'content-type': 'application/json' })).status, 415);
    assert.equal((await patch('[]', { 'content-type': 'application/json-patch+json' })).status, 415);
    const bad: unknown[] = [
      { op: 'replace', path: '/name', value: 'x' }, // not an array
      [{ op: 'move', from: '/name', path: '/keep' }],
      [{ op: 'copy', from: '/name', path: '/other' }],
      [{ op: 'test', path: '/name', value: 'patched' }],
      [{ path: '/name', value: 'x' }],
      [{ op: 'replace', value: 'x' }],
      [{ op: 'replace', path: 'name', value: 'x' }],
      [{ op: 'replace', path: '/a/b', value: 'x' }],
      [{ op: 'replace', path: '', value: 'x' }],
      [{ op: 'add', path: '/foo' }],
      [{ op: 'replace', path: '/disk_format', value: 'floppy' }],
      [{ op: 'add', path: `/${'k'.repeat(256)}`, value: 'v' }],
      [{ op: 'add', path: '/foo', value: 1 }],
      [{ op: 'add', path: '/foo', value: 'v'.repeat(65536) }],
      [{ op: 'replace', path: '/min_ram', value: 'lots' }],
      [{ op: 'add', path: '/tags', value: ['t'.repeat(256)] }],
      // A valid change followed by an invalid one: nothing is applied.
      [{ op: 'replace', path: '/name', value: 'changed' }, { op: 'replace', path: '/protected', value: 'yes' }],
      ['not an object'],
    ];
    for (const doc of bad) {
      const res = await patch(JSON.stringify(doc));
      assert.equal(res.status, 400, `${JSON.stringify(doc).slice(0, 80)}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.json.title, 'Bad Request');
    }
    assert.equal((await patch('[{"op": "replace", "path": "/name", "value": ')).status, 400);
    assert.equal((await patch('')).status, 400);
    assert.deepEqual(await show(id), before);
  });

  test('upload: 400 before saving when disk or container format is missing', async () => {
    const id = await create({ name: 'formatless' });
    const res = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream', ...JSON_FAULT }, payload: Buffer.alloc(10) });
    assert.equal(res.statusCode, 400);
    assert.match(JSON.parse(res.body).message, /Properties disk_format, container_format must be set prior to saving data/);
    assert.equal((await show(id)).status, 'queued');
  });

  test('upload: a body shorter than its Content-Length is refused; the image stays queued without data', async () => {
    const id = await create();
    const res = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream', 'content-length': '1000', ...JSON_FAULT }, payload: Buffer.alloc(600, 3) });
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
    const image = await settled(id);
    assert.equal(image.status, 'queued');
    assert.equal(image.size, null);
    assert.equal(image.checksum, null);
    assert.deepEqual(dataFiles().filter((f) => f.includes(id)), []);
  });

  test('upload over a real socket: a client that disconnects mid-upload leaves the image queued and no file behind', async () => {
    const id = await create();
    const filesBefore = dataFiles().length;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`PUT /image/v2/images/${id}/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${admin}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n`);
        socket.write(Buffer.alloc(1024 * 1024, 5), () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const image = await settled(id);
    assert.equal(image.status, 'queued');
    assert.equal(image.size, null);
    assert.equal(dataFiles().length, filesBefore, `left behind: ${dataFiles().join(', ')}`);
    // Nothing half-made is in the way of a proper upload.
    const data = Buffer.alloc(4096, 9);
    const ok = await fetch(`http://127.0.0.1:${port}/image/v2/images/${id}/file`, { method: 'PUT', headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' }, body: data });
    assert.equal(ok.status, 204);
    const active = await show(id);
    assert.equal(active.status, 'active');
    assert.equal(active.checksum, createHash('md5').update(data).digest('hex'));
  });

  test('upload over a real socket: a half-closed short body is refused, bytes past Content-Length are never stored', async () => {
    const short = await create();
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`PUT /image/v2/images/${short}/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${admin}\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n`);
        socket.end(Buffer.alloc(1000, 1));
      });
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.doesNotMatch(answer, /^HTTP\/1\.1 (2|5)\d\d/, answer.slice(0, 100));
    assert.equal((await settled(short)).status, 'queued');
    assert.deepEqual(dataFiles().filter((f) => f.includes(short)), []);

    // HTTP cannot tell extra bytes from a next request: the image gets exactly Content-Length
    // bytes and the rest is refused as a malformed request (the connection closes), never a 5xx.
    const long = await create();
    const body = Buffer.concat([Buffer.alloc(3000, 2), Buffer.from('garbage that is not HTTP\r\n\r\n')]);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`PUT /image/v2/images/${long}/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${admin}\r\nContent-Type: application/octet-stream\r\nContent-Length: 3000\r\n\r\n`);
        socket.write(body);
      });
      socket.on('data', (d) => (text += d.toString()));
      socket.setTimeout(5000, () => socket.destroy());
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 (204|400)/);
    assert.doesNotMatch(reply, /HTTP\/1\.1 5\d\d/);
    // Whether the upload finished before the malformed rest closed the connection is a race; either
    // way the image is whole: active with exactly the announced bytes, or queued with none.
    const image = await settled(long);
    if (image.status === 'active') {
      assert.equal(image.size, 3000);
      assert.equal(image.checksum, createHash('md5').update(Buffer.alloc(3000, 2)).digest('hex'));
    } else {
      assert.equal(image.status, 'queued');
      assert.equal(image.size, null);
      assert.deepEqual(dataFiles().filter((f) => f.includes(long)), []);
    }
  });

  test('upload: wrong content type is 415, a non-queued image 409, an unknown image 404', async () => {
    const id = await create();
    const put = (headers: Record<string, string>, payload: string | Buffer, target = id) =>
      t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${target}/file`, headers: { 'x-auth-token': admin, ...JSON_FAULT, ...headers }, payload });
    assert.equal((await put({ 'content-type': 'text/plain' }, 'hello')).statusCode, 415);
    assert.equal((await put({ 'content-type': 'application/json' }, '{"a": 1}')).statusCode, 415);
    assert.equal((await show(id)).status, 'queued');
    assert.equal((await put({ 'content-type': 'application/octet-stream' }, Buffer.alloc(5))).statusCode, 204);
    assert.equal((await put({ 'content-type': 'application/octet-stream' }, Buffer.alloc(5))).statusCode, 409);
    assert.equal((await put({ 'content-type': 'application/octet-stream' }, Buffer.alloc(5), '0f3d2c5e-1111-4222-8333-444455556666')).statusCode, 404);
  });
});
