import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { imageClient, projectToken } from './import-helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MULTI = {
  'image.enabled_backends': 'fast:file, slow:file, swift:swift',
  'image.default_backend': 'fast',
  'image.store_descriptions': 'fast=Fast local disk;slow=Slow local disk',
  'image.swift_store_large_object_chunk_size': 1,
};

describe('multi-store: fast and slow file stores and the swift store', () => {
  let t: TestCloud;
  let img: ReturnType<typeof imageClient>;
  before(async () => {
    t = await startTestCloud({ set: MULTI });
    t.cloud.startWorkers();
    img = imageClient(t, await t.adminToken());
  });
  after(async () => t.close());

  /** Objects in the swift store's container, read as the generated service user would. */
  async function swiftObjects(): Promise<string[]> {
    const password = readFileSync(join(t.config.server.data_dir, 'image-swift-password'), 'utf8').trim();
    const login = await t.login({ name: 'glance', password }, { project: { name: 'service', domain: { id: 'default' } } });
    assert.equal(login.status, 201, 'the swift store provisioned its service user');
    const account = `/object-store/v1/AUTH_${login.json.token.project.id}`;
    const res = await t.cloud.app.inject({ method: 'GET', url: `${account}/glance?format=json`, headers: { 'x-auth-token': login.token } });
    return res.statusCode === 200 ? (JSON.parse(res.body) as { name: string }[]).map((o) => o.name) : [];
  }

  test('at start the swift store is reaped by a job (it needs the API, which serves only then)', async () => {
    type Jobs = { nubes_jobs: { kind: string; status: string; payload: string; result: string | null } };
    if (t.cloud.db.engine === 'postgres') {
      // Shared databases: other processes may be mid-upload, so nothing is reaped at start.
      assert.equal((await t.cloud.db.typed<Jobs>().selectFrom('nubes_jobs').selectAll().where('kind', '=', 'reap_store').execute()).length, 0);
      return;
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const jobs = await t.cloud.db.typed<Jobs>().selectFrom('nubes_jobs').selectAll().where('kind', '=', 'reap_store').execute();
      if (jobs.length === 1 && jobs[0]?.status === 'succeeded') {
        assert.deepEqual(JSON.parse(jobs[0].payload), { v: 1, store: 'swift' });
        assert.deepEqual(JSON.parse(jobs[0].result ?? '{}'), { partial: 0, orphans: 0 });
        break;
      }
      assert.ok(Date.now() < deadline, `reap_store did not succeed: ${JSON.stringify(jobs)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test('GET /v2/info/stores and, for admins, /detail', async () => {
    const stores = await img.json('GET', '/v2/info/stores');
    assert.deepEqual(stores.json.stores, [
      { id: 'fast', description: 'Fast local disk', default: 'true' },
      { id: 'slow', description: 'Slow local disk' },
      { id: 'swift', description: 'Object storage (Swift API)' },
    ]);
    const detail = await img.json('GET', '/v2/info/stores/detail');
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.json.stores.map((s: { type: string }) => s.type), ['file', 'file', 'swift']);
    assert.equal(detail.json.stores[0].properties.data_dir, join(t.config.server.data_dir, 'images-fast'));
    assert.equal(detail.json.stores[2].properties.container, 'glance');
    const member = imageClient(t, (await projectToken(t, 'stores-member')).token);
    assert.equal((await member.json('GET', '/v2/info/stores/detail')).status, 403);
    assert.equal((await member.json('GET', '/v2/info/stores')).status, 200);
  });

  test('X-Image-Meta-Store picks the store of an upload; an unknown one is 400 and nothing happens', async () => {
    const id = await img.create();
    const data = randomBytes(10_000);
    const bad = await img.raw('PUT', `/v2/images/${id}/file`, data, { 'x-image-meta-store': 'nope' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Store for identifier nope not found/);
    assert.equal((await img.show(id)).status, 'queued');
    assert.equal((await img.raw('PUT', `/v2/images/${id}/file`, data, { 'x-image-meta-store': 'slow' })).status, 204);
    const image = await img.show(id);
    assert.equal(image.stores, 'slow');
    assert.ok(existsSync(join(t.config.server.data_dir, 'images-slow', id)));
    const plain = await img.create();
    assert.equal((await img.raw('PUT', `/v2/images/${plain}/file`, data)).status, 204);
    assert.equal((await img.show(plain)).stores, 'fast');
  });

  test('glance-direct into chosen stores, download from any copy, delete a copy from one store', async () => {
    const id = await img.create();
    const data = randomBytes(1_500_000);
    await img.stage(id, data);
    assert.equal((await img.import(id, { method: { name: 'glance-direct' }, stores: ['fast', 'swift'] })).status, 202);
    const image = await img.waitFor(id, (i) => i.status === 'active' && i.os_glance_import_task === undefined, 'active in both stores');
    assert.equal(image.stores, 'fast,swift');
    assert.equal(image.checksum, md5(data));
    assert.ok((await swiftObjects()).includes(id));

    assert.equal((await img.json('DELETE', `/v2/stores/nope/${id}`)).status, 409);
    assert.equal((await img.json('DELETE', `/v2/stores/slow/${id}`)).status, 404);
    assert.equal((await img.json('DELETE', `/v2/stores/fast/${id}`)).status, 204);
    assert.equal((await img.show(id)).stores, 'swift');
    // Now served from the swift copy, segments and all.
    assert.deepEqual((await img.raw('GET', `/v2/images/${id}/file`)).raw, data);
    const last = await img.json('DELETE', `/v2/stores/swift/${id}`);
    assert.equal(last.status, 403);
    assert.match(last.json.message, /only store containing it/);

    assert.equal((await img.json('DELETE', `/v2/images/${id}`)).status, 204);
    const deadline = Date.now() + 10_000;
    while ((await swiftObjects()).includes(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!(await swiftObjects()).includes(id), 'the delete job removed the swift copy');
  });

  test('all_stores puts a copy in every store', async () => {
    const id = await img.create();
    await img.stage(id, randomBytes(4096));
    assert.equal((await img.import(id, { method: { name: 'glance-direct' }, all_stores: true })).status, 202);
    const image = await img.waitFor(id, (i) => i.status === 'active', 'active');
    assert.equal(image.stores, 'fast,slow,swift');
    const [task] = await img.tasks(id);
    assert.deepEqual(task?.input.backend, ['fast', 'slow', 'swift']);
  });

  test('copy-image: admins only; copies into the missing stores; already present is 400; nothing left is a no-op', async () => {
    const owner = await projectToken(t, 'copy-owner');
    const mine = imageClient(t, owner.token);
    const id = await mine.create();
    const data = randomBytes(3000);
    assert.equal((await mine.raw('PUT', `/v2/images/${id}/file`, data)).status, 204);
    const denied = await mine.import(id, { method: { name: 'copy-image' }, stores: ['slow'] });
    assert.equal(denied.status, 403);
    assert.equal((await img.import(id, { method: { name: 'copy-image' }, stores: ['fast'] })).status, 400);
    assert.equal((await img.import(id, { method: { name: 'copy-image' }, all_stores: true, all_stores_must_succeed: false })).status, 202);
    const copied = await img.waitFor(id, (i) => i.os_glance_import_task === undefined && i.stores === 'fast,slow,swift', 'copied and unlocked');
    assert.equal(copied.status, 'active');
    assert.equal(copied.os_glance_failed_import, '');
    assert.equal(copied.checksum, md5(data));
    assert.equal((await img.import(id, { method: { name: 'copy-image' }, all_stores: true })).status, 202);
    assert.equal((await img.tasks(id)).length, 1, 'nothing to copy: no task');
  });
});

describe('multi-store with a failing store', () => {
  let t: TestCloud;
  let img: ReturnType<typeof imageClient>;
  before(async () => {
    // A swift store whose operator-managed password is wrong: every write into it fails.
    t = await startTestCloud({ set: { ...MULTI, 'image.swift_store_key': 'not-the-password' } });
    t.cloud.startWorkers();
    img = imageClient(t, await t.adminToken());
  });
  after(async () => t.close());

  test('all_stores_must_succeed=false: active in the good stores, the bad one in os_glance_failed_import', async () => {
    const id = await img.create();
    await img.stage(id, randomBytes(2048));
    assert.equal((await img.import(id, { method: { name: 'glance-direct' }, all_stores: true, all_stores_must_succeed: false })).status, 202);
    const image = await img.waitFor(id, (i) => i.os_glance_import_task === undefined && i.os_glance_importing_to_stores === '', 'done');
    assert.equal(image.status, 'active');
    assert.equal(image.stores, 'fast,slow');
    assert.equal(image.os_glance_failed_import, 'swift');
    assert.equal((await img.tasks(id))[0]?.status, 'success');
  });

  test('all_stores_must_succeed=true (default): the copies made are removed and the image is queued again', async () => {
    const id = await img.create();
    await img.stage(id, randomBytes(2048));
    assert.equal((await img.import(id, { method: { name: 'glance-direct' }, stores: ['fast', 'swift', 'slow'] })).status, 202);
    const task = await img.waitForTask(id, 'failure');
    assert.ok(task.message.length > 0);
    const image = await img.waitFor(id, (i) => i.os_glance_import_task === undefined, 'unlocked');
    assert.equal(image.status, 'queued');
    assert.equal(image.stores, undefined);
    assert.equal(image.os_glance_failed_import, 'swift');
    assert.equal(image.checksum, null);
    const deadline = Date.now() + 10_000;
    while (existsSync(join(t.config.server.data_dir, 'images-fast', id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!existsSync(join(t.config.server.data_dir, 'images-fast', id)), 'the copy in fast was deleted');
  });
});
