import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };

describe('image service', () => {
  let t: TestCloud;
  let admin: string;
  before(async () => {
    t = await startTestCloud({ set: { 'image.user_storage_quota': 0 } });
    admin = await t.adminToken();
  });
  after(async () => t.close());

  test('version discovery: 300 on the root, 200 on /versions, v2.16 CURRENT', async () => {
    const root = await t.request('GET', '/image');
    assert.equal(root.status, 300);
    const ids = (root.json.versions as { id: string; status: string }[]).map((v) => v.id);
    assert.equal(ids[0], 'v2.16');
    assert.ok(ids.includes('v2.0'));
    assert.equal(root.json.versions[0].status, 'CURRENT');
    assert.match(root.json.versions[0].links[0].href, /\/image\/v2\/$/);
    const versions = await t.request('GET', '/image/versions');
    assert.equal(versions.status, 200);
  });

  test('faults: 401 without a token, webob HTML or JSON 404', async () => {
    assert.equal((await t.request('GET', '/image/v2/images')).status, 401);
    const html = await t.request('GET', '/image/v2/images/0f3d2c5e-1111-4222-8333-444455556666', { token: admin });
    assert.equal(html.status, 404);
    assert.match(html.text, /<h1>404 Not Found<\/h1>/);
    const json = await t.request('GET', '/image/v2/images/0f3d2c5e-1111-4222-8333-444455556666', { token: admin, headers: { accept: 'application/json' } });
    assert.equal(json.json.code, '404 Not Found');
    assert.equal(json.json.title, 'Not Found');
  });

  test('create, show, upload, download, delete', async () => {
    const created = await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'cirros', disk_format: 'raw', container_format: 'bare', hw_foo: 'bar', tags: ['b', 'a'] } });
    assert.equal(created.status, 201);
    const image = created.json;
    assert.equal(image.status, 'queued');
    assert.equal(image.visibility, 'shared');
    assert.equal(image.hw_foo, 'bar');
    assert.deepEqual(image.tags, ['a', 'b']);
    assert.equal(image.size, null);
    assert.equal(image.checksum, null);
    assert.equal(image.self, `/v2/images/${image.id}`);
    assert.equal(image.schema, '/v2/schemas/image');
    assert.match(image.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.headers.location, `/v2/images/${image.id}`);

    const data = Buffer.alloc(300_000, 7);
    const nodata = await t.cloud.app.inject({ method: 'GET', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin } });
    assert.equal(nodata.statusCode, 204);
    const put = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' }, payload: data });
    assert.equal(put.statusCode, 204, put.body);
    const shown = (await t.request('GET', `/image/v2/images/${image.id}`, { token: admin })).json;
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.virtual_size, data.length);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.os_hash_value, createHash('sha512').update(data).digest('hex'));

    const again = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' }, payload: data });
    assert.equal(again.statusCode, 409);

    const got = await t.cloud.app.inject({ method: 'GET', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin } });
    assert.equal(got.statusCode, 200);
    assert.equal(got.rawPayload.length, data.length);
    assert.equal(got.headers['content-md5'], shown.checksum);
    const ranged = await t.cloud.app.inject({ method: 'GET', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin, range: 'bytes=10-19' } });
    assert.equal(ranged.statusCode, 206);
    assert.equal(ranged.rawPayload.length, 10);
    assert.equal(ranged.headers['content-range'], `bytes 10-19/${data.length}`);
    const bad = await t.cloud.app.inject({ method: 'GET', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': admin, range: `bytes=${data.length}-` } });
    assert.equal(bad.statusCode, 416);

    const prot = await t.request('PATCH', `/image/v2/images/${image.id}`, { token: admin, rawBody: JSON.stringify([{ op: 'replace', path: '/protected', value: true }]), headers: PATCH });
    assert.equal(prot.status, 200, prot.text);
    assert.equal((await t.request('DELETE', `/image/v2/images/${image.id}`, { token: admin })).status, 403);
    await t.request('PATCH', `/image/v2/images/${image.id}`, { token: admin, rawBody: JSON.stringify([{ op: 'replace', path: '/protected', value: false }]), headers: PATCH });
    assert.equal((await t.request('DELETE', `/image/v2/images/${image.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}`, { token: admin })).status, 404);
  });

  test('create refuses read-only, reserved and mistyped attributes', async () => {
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { status: 'active' } })).status, 403);
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { os_glance_x: 'y' } })).status, 403);
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { min_ram: 'x' } })).status, 400);
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { disk_format: 'floppy' } })).status, 400);
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { prop: 1 } })).status, 400);
  });

  test('patch: add/replace/remove, 403 read-only, 400 bad patch, 415 wrong type, 409 missing property', async () => {
    const image = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'p' } })).json;
    const url = `/image/v2/images/${image.id}`;
    const patch = (ops: unknown) => t.request('PATCH', url, { token: admin, rawBody: JSON.stringify(ops), headers: PATCH });
    const res = await patch([{ op: 'add', path: '/foo', value: 'bar' }, { op: 'replace', path: '/name', value: 'q' }, { op: 'add', path: '/min_ram', value: 512 }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.foo, 'bar');
    assert.equal(res.json.name, 'q');
    assert.equal(res.json.min_ram, 512);
    assert.equal((await patch([{ op: 'remove', path: '/foo' }])).json.foo, undefined);
    assert.equal((await patch([{ op: 'remove', path: '/foo' }])).status, 409);
    assert.equal((await patch([{ op: 'replace', path: '/status', value: 'active' }])).status, 403);
    assert.equal((await patch([{ op: 'move', path: '/name' }])).status, 400);
    assert.equal((await patch({ op: 'add' })).status, 400);
    assert.equal((await t.request('PATCH', url, { token: admin, body: [] })).status, 415);
  });

  test('tags', async () => {
    const image = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'tagged' } })).json;
    assert.equal((await t.request('PUT', `/image/v2/images/${image.id}/tags/blue`, { token: admin })).status, 204);
    assert.deepEqual((await t.request('GET', `/image/v2/images/${image.id}`, { token: admin })).json.tags, ['blue']);
    const listed = await t.request('GET', '/image/v2/images?tag=blue', { token: admin });
    assert.deepEqual(listed.json.images.map((i: { id: string }) => i.id), [image.id]);
    assert.equal((await t.request('DELETE', `/image/v2/images/${image.id}/tags/blue`, { token: admin })).status, 204);
    assert.equal((await t.request('DELETE', `/image/v2/images/${image.id}/tags/blue`, { token: admin })).status, 404);
  });

  test('list: paging with next/first/schema, sorting, filters', async () => {
    const ids: string[] = [];
    for (const name of ['l-c', 'l-a', 'l-b']) ids.push((await t.request('POST', '/image/v2/images', { token: admin, body: { name, owner_tag: 'list' } })).json.id);
    const page1 = await t.request('GET', '/image/v2/images?owner_tag=list&limit=2&sort_key=name&sort_dir=asc', { token: admin });
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.json.images.map((i: { name: string }) => i.name), ['l-a', 'l-b']);
    // Glance's `first` repeats the request's parameters (all but the marker).
    assert.equal(page1.json.first, '/v2/images?owner_tag=list&limit=2&sort_key=name&sort_dir=asc');
    assert.equal(page1.json.schema, '/v2/schemas/images');
    assert.match(page1.json.next, /marker=/);
    const page2 = await t.request('GET', `/image${page1.json.next.replace('/v2', '/v2')}`, { token: admin });
    assert.deepEqual(page2.json.images.map((i: { name: string }) => i.name), ['l-c']);
    assert.equal(page2.json.next, undefined);
    const sorted = await t.request('GET', '/image/v2/images?owner_tag=list&sort=name:desc', { token: admin });
    assert.deepEqual(sorted.json.images.map((i: { name: string }) => i.name), ['l-c', 'l-b', 'l-a']);
    const inList = await t.request('GET', '/image/v2/images?name=in:l-a,l-c', { token: admin });
    assert.equal(inList.json.images.length, 2);
    assert.equal((await t.request('GET', '/image/v2/images?sort_key=bogus', { token: admin })).status, 400);
    assert.equal((await t.request('GET', '/image/v2/images?limit=-1', { token: admin })).status, 400);
    assert.equal((await t.request('GET', '/image/v2/images?marker=nope', { token: admin })).status, 400);
    const future = await t.request('GET', '/image/v2/images?created_at=gt:2999-01-01T00:00:00Z', { token: admin });
    assert.equal(future.json.images.length, 0);
  });

  test('schemas', async () => {
    for (const name of ['image', 'images', 'member', 'members']) {
      const res = await t.request('GET', `/image/v2/schemas/${name}`, { token: admin });
      assert.equal(res.status, 200);
      assert.equal(res.json.name, name);
    }
  });
});
