import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { imageClient, projectToken } from './import-helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('image import (glance-direct, web-download, glance-download)', () => {
  let t: TestCloud;
  let img: ReturnType<typeof imageClient>;
  let token: string;
  let server: Server;
  let serverUrl: string;
  const served = randomBytes(70_000);

  before(async () => {
    t = await startTestCloud();
    t.cloud.startWorkers();
    token = await t.adminToken();
    img = imageClient(t, token);
    // A web server on loopback for web-download; /redirect-out points off the machine.
    server = createServer((req, res) => {
      if (req.url === '/disk.raw') return res.writeHead(200, { 'content-length': served.length }).end(served);
      if (req.url === '/redirect') return res.writeHead(302, { location: '/disk.raw' }).end();
      if (req.url === '/redirect-out') return res.writeHead(302, { location: 'http://192.0.2.1/disk.raw' }).end();
      res.writeHead(404).end('nope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    serverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  test('GET /v2/info/import lists the four methods; info needs a token', async () => {
    const res = await img.json('GET', '/v2/info/import');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { 'import-methods': { description: 'Import methods available.', type: 'array', value: ['glance-direct', 'web-download', 'copy-image', 'glance-download'] } });
    assert.equal((await t.request('GET', '/image/v2/info/import')).status, 401);
    const created = await img.json('POST', '/v2/images', { name: 'hdr' });
    assert.equal(created.headers['openstack-image-import-methods'], 'glance-direct,web-download,copy-image,glance-download');
    assert.equal(created.headers['openstack-image-store-ids'], 'file');
    const stores = await img.json('GET', '/v2/info/stores');
    assert.deepEqual(stores.json, { stores: [{ id: 'file', description: 'Filesystem store', default: 'true' }] });
  });

  test('glance-direct: stage (uploading), import (importing -> active), task success with the request id', async () => {
    const id = await img.create();
    const data = randomBytes(200_000);
    await img.stage(id, data);
    const staged = await img.show(id);
    assert.equal(staged.status, 'uploading');
    assert.equal(staged.size, data.length);
    assert.equal(staged.os_glance_stage_host, undefined, 'the stage host is hidden, as Glance does');
    assert.ok(existsSync(join(t.config.server.data_dir, 'image-staging', id)));

    const res = await img.import(id, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.text, '');
    // Active comes with the last store; the task completes (and drops the lock) right after.
    const active = await img.waitFor(id, (i) => i.status === 'active' && i.os_glance_import_task === undefined, 'active and unlocked');
    assert.equal(active.checksum, md5(data));
    assert.equal(active.os_hash_algo, 'sha512');
    assert.equal(active.stores, 'file');
    assert.equal(active.os_glance_import_task, undefined, 'the lock is dropped');
    assert.equal(active.os_glance_importing_to_stores, '');
    assert.equal(active.os_glance_failed_import, '');
    assert.ok(!existsSync(join(t.config.server.data_dir, 'image-staging', id)), 'staged data is removed');
    const download = await img.raw('GET', `/v2/images/${id}/file`);
    assert.deepEqual(download.raw, data);

    const [task, ...more] = await img.tasks(id);
    assert.equal(more.length, 0);
    assert.equal(task?.status, 'success');
    assert.equal(task?.request_id, res.headers['x-openstack-request-id']);
    assert.equal(task?.type, 'api_image_import');
    assert.deepEqual(task?.input, { image_id: id, import_req: { method: { name: 'glance-direct' } }, backend: ['file'] });
    assert.deepEqual(task?.result, { image_id: id });
    assert.match(String(task?.expires_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(task?.deleted, false);
  });

  test('stage: 409 unless queued (and for staged data), 415 for other media, 403 for non-owners, 404 for unknown images', async () => {
    const id = await img.create();
    await img.stage(id, Buffer.from('abc'));
    const again = await img.raw('PUT', `/v2/images/${id}/stage`, Buffer.from('abc'));
    assert.equal(again.status, 409);
    assert.match(again.text, /Image status transition from uploading to uploading is not allowed/);
    const other = await img.create();
    const json = await img.json('PUT', `/v2/images/${other}/stage`, { a: 1 });
    assert.equal(json.status, 415);
    assert.equal((await img.show(other)).status, 'queued');
    assert.equal((await img.raw('PUT', '/v2/images/0f3d2c5e-1111-4222-8333-444455556666/stage', Buffer.from('x'))).status, 404);
    await img.json('PATCH', `/v2/images/${other}`, [{ op: 'replace', path: '/visibility', value: 'public' }], { 'content-type': 'application/openstack-images-v2.1-json-patch' });
    const demo = imageClient(t, (await projectToken(t, 'stage-other')).token);
    const denied = await demo.raw('PUT', `/v2/images/${other}/stage`, Buffer.from('x'));
    assert.equal(denied.status, 403);
    assert.equal((await img.show(other)).status, 'queued');
  });

  test('stage over a real socket: a client that stops mid-body leaves the image queued with nothing staged', async () => {
    const id = await img.create();
    await t.cloud.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.cloud.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`PUT /image/v2/images/${id}/stage HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\n\r\n`);
        socket.end(Buffer.alloc(1000, 1));
      });
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const image = await img.waitFor(id, (i) => i.status !== 'uploading', 'out of uploading');
    assert.equal(image.status, 'queued');
    assert.ok(!existsSync(join(t.config.server.data_dir, 'image-staging', id)));
  });

  test('deleting a staged image removes its staged data', async () => {
    const id = await img.create();
    await img.stage(id, Buffer.from('staged bytes'));
    const path = join(t.config.server.data_dir, 'image-staging', id);
    assert.ok(existsSync(path));
    assert.equal((await img.json('DELETE', `/v2/images/${id}`)).status, 204);
    assert.ok(!existsSync(path));
  });

  test('import: Glance\'s 400s and 409s, and nothing changes', async () => {
    const queued = await img.create();
    const cases: [Record<string, unknown>, number, RegExp][] = [
      [{}, 400, /requires a 'method' field/],
      [{ method: {} }, 400, /requires a 'name' field/],
      [{ method: { name: 'ftp' } }, 400, /Unknown import method name 'ftp'/],
      [{ method: { name: 'glance-direct' }, all_stores: 'yes' }, 400, /'all_stores' must be boolean/],
      [{ method: { name: 'glance-direct' }, all_stores_must_succeed: 1 }, 400, /'all_stores_must_succeed' must be boolean/],
      [{ method: { name: 'glance-direct' } }, 409, /needs to be staged before 'glance-direct'/],
      [{ method: { name: 'copy-image' } }, 409, /Only images with status active can be targeted for copying/],
      [{ method: { name: 'web-download', uri: 'http://192.0.2.10:8080/disk.raw' } }, 400, /URI for web-download does not pass filtering: http:\/\/192\.0\.2\.10:8080\/disk\.raw/],
      [{ method: { name: 'web-download', uri: 'file:///etc/passwd' } }, 400, /does not pass filtering/],
      [{ method: { name: 'web-download', uri: 'https://example.com:8443/x' } }, 400, /does not pass filtering/],
      [{ method: { name: 'web-download', uri: 'http://127.0.0.1:1/x' }, stores: ['nope'] }, 409, /Store for identifier nope not found/],
      [{ method: { name: 'web-download', uri: 'http://127.0.0.1:1/x' }, all_stores: true, stores: ['file'] }, 400, /All_stores parameter can't be used/],
      [{ method: { name: 'glance-download', glance_image_id: 'foo', glance_region: 'RegionOne' } }, 400, /Remote image id does not look like a UUID: foo/],
      [{ method: { name: 'glance-download', glance_image_id: queued } }, 400, /'glance_region' needs to be set/],
    ];
    for (const [body, status, message] of cases) {
      const res = await img.import(queued, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.match(String(res.json.message), message, JSON.stringify(body));
    }
    const header = await img.import(queued, { method: { name: 'web-download', uri: `${serverUrl}/disk.raw` }, stores: ['file'] }, { 'x-image-meta-store': 'file' });
    assert.equal(header.status, 400);
    const noFormat = await img.create({ disk_format: null });
    assert.match((await img.import(noFormat, { method: { name: 'web-download', uri: `${serverUrl}/disk.raw` } })).text, /'disk_format' needs to be set before import/);
    const image = await img.show(queued);
    assert.equal(image.status, 'queued');
    assert.equal(image.os_glance_import_task, undefined);
    assert.deepEqual(await img.tasks(queued), []);
  });

  test('web-download from a loopback server (following a loopback redirect)', async () => {
    const id = await img.create();
    assert.equal((await img.import(id, { method: { name: 'web-download', uri: `${serverUrl}/redirect` } })).status, 202);
    const active = await img.waitFor(id, (i) => i.status === 'active', 'active');
    assert.equal(active.checksum, md5(served));
    assert.equal(active.size, served.length);
    // A second import into an active image is refused.
    assert.equal((await img.import(id, { method: { name: 'web-download', uri: `${serverUrl}/disk.raw` } })).status, 409);
  });

  test('web-download failures: the task fails, the store is reported failed, the image is queued again', async () => {
    // A host off this machine passes Glance's filter (as in Tempest's bad-URL test) but is never contacted.
    for (const uri of [`${serverUrl}/missing`, `${serverUrl}/redirect-out`, 'http://does-not.exist/no/possible/way']) {
      const id = await img.create();
      assert.equal((await img.import(id, { method: { name: 'web-download', uri } })).status, 202);
      const failed = await img.waitFor(id, (i) => Boolean(i.os_glance_failed_import), 'failed');
      assert.equal(failed.os_glance_failed_import, 'file');
      const task = await img.waitForTask(id, 'failure');
      assert.ok(task.message.length > 0);
      const image = await img.waitFor(id, (i) => i.status === 'queued' && i.os_glance_import_task === undefined, 'queued and unlocked');
      assert.equal(image.checksum, null);
    }
  });

  test('web-download of an object of this cloud\'s own Swift goes through the in-process API', async () => {
    const admin = await t.adminToken();
    const scoped = await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin } });
    const account = `/object-store/v1/AUTH_${scoped.json.token.project.id}`;
    const data = randomBytes(5000);
    const put = async (path: string, headers: Record<string, string>, payload?: Buffer) =>
      t.cloud.app.inject({ method: 'PUT', url: `${account}${path}`, headers: { 'x-auth-token': admin, ...headers }, ...(payload ? { payload } : {}) });
    assert.equal((await put('/public', { 'x-container-read': '.r:*' })).statusCode, 201);
    assert.equal((await put('/public/disk.raw', {}, data)).statusCode, 201);
    const id = await img.create();
    const uri = `http://${t.config.server.bind}${account}/public/disk.raw`;
    assert.equal((await img.import(id, { method: { name: 'web-download', uri } })).status, 202);
    const active = await img.waitFor(id, (i) => i.status === 'active', 'active');
    assert.equal(active.checksum, md5(data));
  });

  test('glance-download from this cloud\'s own image endpoint copies data, formats and the chosen properties', async () => {
    const src = await img.create({ disk_format: 'qcow2', container_format: 'bare' });
    const data = randomBytes(30_000);
    assert.equal((await img.raw('PUT', `/v2/images/${src}/file`, data)).status, 204);
    const patch = [
      { op: 'add', path: '/hw_cpu_cores', value: '5' },
      { op: 'add', path: '/trait:STORAGE_DISK_SSD', value: 'required' },
      { op: 'add', path: '/os_distro', value: 'rhel' },
      { op: 'add', path: '/speed', value: '88mph' },
    ];
    assert.equal((await img.json('PATCH', `/v2/images/${src}`, patch, { 'content-type': 'application/openstack-images-v2.1-json-patch' })).status, 200);
    const dst = await img.create({ disk_format: 'iso', container_format: 'ovf', hw_cpu_cores: '1', os_distro: 'windows' });
    const res = await img.import(dst, { method: { name: 'glance-download', glance_image_id: src, glance_region: 'RegionOne', glance_service_interface: 'public' } });
    assert.equal(res.status, 202, res.text);
    await img.waitForTask(dst, 'success');
    const image = await img.show(dst);
    assert.equal(image.status, 'active');
    assert.equal(image.checksum, md5(data));
    assert.equal(image.disk_format, 'qcow2');
    assert.equal(image.container_format, 'bare');
    assert.equal(image.hw_cpu_cores, '5');
    assert.equal(image['trait:STORAGE_DISK_SSD'], 'required');
    assert.equal(image.os_distro, 'rhel');
    assert.equal(image.speed, undefined);
  });

  test('glance-download failures (unknown region, missing image) revert to queued and keep the properties', async () => {
    for (const method of [
      { name: 'glance-download', glance_image_id: '36d4b546-64a2-4bb9-bdd0-ba676aa48f2c', glance_region: 'not a region', glance_service_interface: 'not an interface' },
      { name: 'glance-download', glance_image_id: '36d4b546-64a2-4bb9-bdd0-ba676aa48f2c', glance_region: 'RegionOne' },
    ]) {
      const id = await img.create({ hw_cpu_cores: '1', os_distro: 'windows' });
      assert.equal((await img.import(id, { method })).status, 202);
      const task = await img.waitForTask(id, 'failure');
      assert.equal(task.input.import_req.method.glance_service_interface, method.glance_service_interface ?? 'public');
      const image = await img.waitFor(id, (i) => i.status === 'queued' && i.os_glance_import_task === undefined, 'queued');
      assert.equal(image.hw_cpu_cores, '1');
      assert.equal(image.os_distro, 'windows');
      assert.equal(image.disk_format, 'raw');
    }
  });
});

describe('image import lock', () => {
  let t: TestCloud;
  before(async () => {
    // No workers at first: the import stays pending with the lock held.
    t = await startTestCloud();
  });
  after(async () => t.close());

  test('a second import while one holds the lock is 409; the queued job completes once workers run', async () => {
    const img = imageClient(t, await t.adminToken());
    const id = await img.create();
    await img.stage(id, randomBytes(1000));
    assert.equal((await img.import(id, { method: { name: 'glance-direct' } })).status, 202);
    const importing = await img.show(id);
    assert.equal(importing.status, 'importing');
    assert.equal(importing.os_glance_importing_to_stores, 'file');
    assert.match(String(importing.os_glance_import_task), /^[0-9a-f-]{36}$/);
    const second = await img.import(id, { method: { name: 'glance-direct' } });
    assert.equal(second.status, 409);
    assert.match(String(second.json.message ?? second.text), /Image has active task|Image needs to be staged/);
    // A metadata PATCH meanwhile keeps the import's bookkeeping (it is not the PATCH's to write).
    const patched = await img.json('PATCH', `/v2/images/${id}`, [{ op: 'add', path: '/note', value: 'x' }], { 'content-type': 'application/openstack-images-v2.1-json-patch' });
    assert.equal(patched.status, 200, patched.text);
    const [task] = await img.tasks(id);
    assert.equal(task?.status, 'pending');
    t.cloud.startWorkers();
    const active = await img.waitFor(id, (i) => i.status === 'active' && i.os_glance_import_task === undefined, 'active and unlocked');
    assert.equal(active.note, 'x');
    assert.equal(active.os_glance_import_task, undefined);
  });
});
