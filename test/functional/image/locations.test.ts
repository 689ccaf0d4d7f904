import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
const PATCH_D4 = { 'content-type': 'application/openstack-images-v2.0-json-patch' };
const OCTET = { 'content-type': 'application/octet-stream' };
const BODY = 'external image bytes '.repeat(10);

/** A loopback web server standing in for an external image host. */
async function imageHost(): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/missing')) return void res.writeHead(404).end();
    if (req.url?.startsWith('/moved')) return void res.writeHead(302, { location: '/image.raw' }).end();
    if (req.url?.startsWith('/away')) return void res.writeHead(302, { location: 'http://192.0.2.1/x' }).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY.length) });
    res.end(req.method === 'HEAD' ? undefined : BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('image locations (show_multiple_locations, http store)', () => {
  let t: TestCloud;
  let admin: string;
  let host: { base: string; server: Server };
  const patch = (id: string, ops: unknown, headers = PATCH) => t.request('PATCH', `/image/v2/images/${id}`, { token: admin, rawBody: JSON.stringify(ops), headers });
  const create = async () => (await t.request('POST', '/image/v2/images', { token: admin, body: { container_format: 'bare', disk_format: 'raw' } })).json as { id: string; locations: unknown[]; status: string };
  const show = async (id: string) => (await t.request('GET', `/image/v2/images/${id}`, { token: admin })).json;

  before(async () => {
    host = await imageHost();
    t = await startTestCloud({
      set: { 'image.show_multiple_locations': true, 'image.show_image_direct_url': true, 'image.enabled_backends': 'file:file,web:http', 'image.image_cache_enabled': false },
    });
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
    host.server.close();
  });

  test('an upload has one location in its store; direct_url is it', async () => {
    const image = await create();
    assert.equal(image.status, 'queued');
    assert.deepEqual(image.locations, []);
    assert.equal((await t.request('PUT', `/image/v2/images/${image.id}/file`, { token: admin, rawBody: 'abc', headers: OCTET })).status, 204);
    const shown = await show(image.id);
    assert.equal(shown.locations.length, 1);
    assert.match(shown.locations[0].url, /^file:\/\//);
    assert.equal(shown.locations[0].metadata.store, 'file');
    assert.equal(shown.direct_url, shown.locations[0].url);
  });

  test('adding an http location activates a queued image with the size the URL reports, no hashes', async () => {
    const image = await create();
    const res = await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw`, metadata: { foo: 'bar' } } }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'active');
    assert.equal(res.json.size, BODY.length);
    assert.equal(res.json.checksum, null);
    assert.deepEqual(res.json.locations, [{ url: `${host.base}/image.raw`, metadata: { foo: 'bar', store: 'web' } }]);
    assert.equal(res.json.direct_url, `${host.base}/image.raw`);
    assert.equal(res.json.stores, 'web');
    const data = await t.request('GET', `/image/v2/images/${image.id}/file`, { token: admin });
    assert.equal(data.status, 200);
    assert.equal(data.text, BODY);
    const range = await t.request('GET', `/image/v2/images/${image.id}/file`, { token: admin, headers: { range: 'bytes=0-7' } });
    assert.equal(range.status, 206);
    assert.equal(range.text, 'external');
  });

  test('replace keeps URLs (metadata may change); remove by index; the last location stays', async () => {
    const image = await create();
    const first = { url: `${host.base}/image.raw`, metadata: { a: '1' } };
    const second = { url: `${host.base}/image.raw#new`, metadata: { speed: '88mph' } };
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: first }])).status, 200);
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: second }])).status, 200);
    const locs = (await show(image.id)).locations;
    assert.equal(locs.length, 2);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations', value: locs }])).status, 200);
    locs[0].metadata.date = '2015-10-15';
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations', value: locs }])).status, 200);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations', value: [locs[0]] }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations', value: [locs[0], { url: `${host.base}/image.raw#x`, metadata: {} }] }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations', value: [] }])).status, 403);
    assert.deepEqual((await show(image.id)).locations, locs);
    // Adding the same location twice is refused.
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: locs[0].url, metadata: locs[0].metadata } }])).status, 400);

    assert.equal((await patch(image.id, [{ op: 'remove', path: '/locations/5' }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status, 200);
    const after = await show(image.id);
    assert.deepEqual(after.locations.map((l: { url: string }) => l.url), [second.url]);
    assert.equal(after.direct_url, second.url);
    assert.equal((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status, 403);
  });

  test('locations that cannot be read are 400: bad schemes, other hosts, own stores, missing data, redirects away', async () => {
    const image = await create();
    const add = (url: string) => patch(image.id, [{ op: 'add', path: '/locations/-', value: { url, metadata: {} } }]);
    assert.equal((await add('gopher://info.cern.ch')).status, 400);
    assert.equal((await add('file:///etc/passwd')).status, 400);
    assert.equal((await add('http://example.com/image.raw')).status, 400);
    assert.equal((await add(`${host.base}/missing`)).status, 400);
    assert.equal((await add(`${host.base}/away`)).status, 400);
    assert.equal((await add('not a url')).status, 400);
    const uploaded = await create();
    await t.request('PUT', `/image/v2/images/${uploaded.id}/file`, { token: admin, rawBody: 'abc', headers: OCTET });
    assert.equal((await add((await show(uploaded.id)).locations[0].url)).status, 400, 'another image\'s data file');
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations', value: { url: `${host.base}/image.raw`, metadata: {} } }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/x', value: { url: `${host.base}/image.raw`, metadata: {} } }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/locations/0', value: { url: `${host.base}/image.raw`, metadata: {} } }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw` } }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: 'x'.repeat(256), metadata: {} } }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status, 409);
    const still = await show(image.id);
    assert.equal(still.status, 'queued');
    assert.deepEqual(still.locations, []);
    // A redirect that stays on loopback is followed.
    assert.equal((await add(`${host.base}/moved`)).status, 200);
  });

  test('validation_data fills the hashes of a queued image and must match afterwards (409)', async () => {
    const image = await create();
    const hashes = { checksum: '1'.repeat(32), os_hash_value: 'deadbeef'.repeat(16), os_hash_algo: 'sha512' };
    const res = await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw`, metadata: {}, validation_data: hashes } }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.checksum, hashes.checksum);
    assert.equal(res.json.os_hash_value, hashes.os_hash_value);
    assert.equal(res.json.locations[0].validation_data, undefined);
    const again = await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw#2`, metadata: {}, validation_data: hashes } }]);
    assert.equal(again.status, 200, again.text);
    for (const [key, wrong] of Object.entries({ checksum: '2'.repeat(32), os_hash_value: 'beefdead'.repeat(16), os_hash_algo: 'sha256' })) {
      const bad = await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw#3`, metadata: {}, validation_data: { ...hashes, [key]: wrong } } }]);
      assert.equal(bad.status, 409, key);
    }
    assert.equal((await show(image.id)).locations.length, 2);
    const fresh = await create();
    const wrongAlgo = await patch(fresh.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw`, metadata: {}, validation_data: { os_hash_algo: 'md5', os_hash_value: 'ab'.repeat(16) } } }]);
    assert.equal(wrongAlgo.status, 409);
    assert.equal((await show(fresh.id)).status, 'queued');
  });

  test('removing the uploaded copy deletes its data once another location serves the image', async () => {
    const image = await create();
    await t.request('PUT', `/image/v2/images/${image.id}/file`, { token: admin, rawBody: BODY, headers: OCTET });
    const fileUrl = (await show(image.id)).locations[0].url as string;
    assert.ok(existsSync(new URL(fileUrl).pathname));
    assert.equal((await patch(image.id, [{ op: 'add', path: '/locations/-', value: { url: `${host.base}/image.raw`, metadata: {} } }])).status, 200);
    assert.equal((await patch(image.id, [{ op: 'remove', path: '/locations/0' }])).status, 200);
    t.cloud.startWorkers();
    const until = Date.now() + 10_000;
    while (existsSync(new URL(fileUrl).pathname) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(new URL(fileUrl).pathname), 'the file store copy is deleted');
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}/file`, { token: admin })).text, BODY);
  });

  test('draft-4 patches (v2.0 media type) use {"<op>": path}', async () => {
    const image = await create();
    const res = await patch(image.id, [{ replace: '/name', value: 'd4' }, { add: '/custom', value: 'x' }], PATCH_D4);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, 'd4');
    assert.equal(res.json.custom, 'x');
    assert.equal((await patch(image.id, [{ add: '/custom', value: 'y' }], PATCH_D4)).status, 409);
    assert.equal((await patch(image.id, [{ add: '/a', replace: '/b', value: 'y' }], PATCH_D4)).status, 400);
    assert.equal((await patch(image.id, [{ path: '/name', value: 'y' }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'move', path: '/name', value: 'y' }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'replace', path: 'name', value: 'y' }])).status, 400);
    assert.equal((await patch(image.id, [{ op: 'replace', path: '/na~2me', value: 'y' }])).status, 400);
    assert.equal((await show(image.id)).name, 'd4');
  });
});

describe('image locations hidden (the default)', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => t.close());

  test('no locations or direct_url fields; location patches are 403', async () => {
    const admin = await t.adminToken();
    const image = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'x' } })).json;
    assert.equal(image.locations, undefined);
    assert.equal(image.direct_url, undefined);
    const res = await t.request('PATCH', `/image/v2/images/${image.id}`, {
      token: admin,
      rawBody: JSON.stringify([{ op: 'add', path: '/locations/-', value: { url: 'http://127.0.0.1:1/x', metadata: {} } }]),
      headers: PATCH,
    });
    assert.equal(res.status, 403);
  });
});

describe('image locations restricted by policy', () => {
  let t: TestCloud;
  let host: { base: string; server: Server };
  let dir: string;
  before(async () => {
    host = await imageHost();
    dir = mkdtempSync(join(tmpdir(), 'nubes-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"image:set_image_location": "role:admin"\n"image:delete_image_location": "!"\n');
    t = await startTestCloud({ set: { 'policy.policy_file': file, 'image.show_multiple_locations': true, 'image.enabled_backends': 'file:file,web:http' } });
  });
  after(async () => {
    await t.close();
    host.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('set_image_location and delete_image_location gate location changes (403) and nothing changes', async () => {
    const demo = (await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } })).token;
    const admin = await t.adminToken();
    const image = (await t.request('POST', '/image/v2/images', { token: demo, body: { disk_format: 'raw', container_format: 'bare' } })).json;
    const add = (token: string, url: string) =>
      t.request('PATCH', `/image/v2/images/${image.id}`, { token, rawBody: JSON.stringify([{ op: 'add', path: '/locations/-', value: { url, metadata: {} } }]), headers: PATCH });
    assert.equal((await add(demo, `${host.base}/a`)).status, 403);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}`, { token: demo })).json.status, 'queued');
    assert.equal((await add(admin, `${host.base}/a`)).status, 200);
    assert.equal((await add(admin, `${host.base}/b`)).status, 200);
    const remove = await t.request('PATCH', `/image/v2/images/${image.id}`, { token: admin, rawBody: JSON.stringify([{ op: 'remove', path: '/locations/0' }]), headers: PATCH });
    assert.equal(remove.status, 403);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}`, { token: admin })).json.locations.length, 2);
  });
});
