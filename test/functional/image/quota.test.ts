import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const OCTET = { 'content-type': 'application/octet-stream' };
const MiB = 1024 * 1024;

describe('image quotas from Keystone unified limits (use_keystone_limits)', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let demoProject: string;
  let imageService: string;

  const create = (token = demo) => t.request('POST', '/image/v2/images', { token, body: { name: 'q', disk_format: 'raw', container_format: 'bare' } });
  const upload = (id: string, bytes: number, token = demo) => t.request('PUT', `/image/v2/images/${id}/file`, { token, rawBody: 'x'.repeat(bytes), headers: OCTET });
  const register = async (resource: string, limit: number) => {
    const res = await t.request('POST', '/identity/v3/registered_limits', { token: admin, body: { registered_limits: [{ service_id: imageService, resource_name: resource, default_limit: limit }] } });
    assert.equal(res.status, 201, res.text);
  };

  before(async () => {
    t = await startTestCloud({ set: { 'image.use_keystone_limits': true } });
    admin = await t.adminToken();
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    demoProject = login.json.token.project.id;
    imageService = (await t.request('GET', '/identity/v3/services?type=image', { token: admin })).json.services[0].id;
  });
  after(async () => t.close());

  test('without any limit a resource is limited to 0 (oslo.limit): image create is 413', async () => {
    const res = await create();
    assert.equal(res.status, 413, res.text);
    assert.match(res.text, /image_count_total is over limit of 0/);
  });

  test('image_count_total: the registered default, then a project limit raising it', async () => {
    await register('image_count_total', 2);
    await register('image_size_total', 1);
    await register('image_count_uploading', 1);
    await register('image_stage_total', 1);
    assert.equal((await create()).status, 201);
    assert.equal((await create()).status, 201);
    assert.equal((await create()).status, 413);
    const raised = await t.request('POST', '/identity/v3/limits', { token: admin, body: { limits: [{ service_id: imageService, project_id: demoProject, resource_name: 'image_count_total', resource_limit: 4 }] } });
    assert.equal(raised.status, 201, raised.text);
    assert.equal((await create()).status, 201);
    const usage = await t.request('GET', '/image/v2/info/usage', { token: demo });
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.json.usage.image_count_total, { usage: 3, limit: 4 });
    assert.deepEqual(usage.json.usage.image_size_total, { usage: 0, limit: 1 });
  });

  test('image_size_total (MiB): the upload that crosses the limit passes, the next one is 413 and stays queued', async () => {
    const images = (await t.request('GET', '/image/v2/images', { token: demo })).json.images.map((i: { id: string }) => i.id);
    assert.equal((await upload(images[0], 2 * MiB)).status, 204);
    const refused = await upload(images[1], 10);
    assert.equal(refused.status, 413, refused.text);
    assert.match(refused.text, /image_size_total is over limit of 1 due to current usage 2/);
    assert.equal((await t.request('GET', `/image/v2/images/${images[1]}`, { token: demo })).json.status, 'queued');
    assert.deepEqual((await t.request('GET', '/image/v2/info/usage', { token: demo })).json.usage.image_size_total, { usage: 2, limit: 1 });
  });

  test('image_count_uploading: an upload beyond the limit of concurrent uploads is 413 and the image goes back to queued', async () => {
    const raised = await t.request('POST', '/identity/v3/limits', { token: admin, body: { limits: [{ service_id: imageService, project_id: demoProject, resource_name: 'image_size_total', resource_limit: 100 }, { service_id: imageService, project_id: demoProject, resource_name: 'image_count_uploading', resource_limit: 0 }] } });
    assert.equal(raised.status, 201, raised.text);
    const queued = (await t.request('GET', '/image/v2/images?status=queued', { token: demo })).json.images[0].id;
    const refused = await upload(queued, 10);
    assert.equal(refused.status, 413, refused.text);
    assert.match(refused.text, /image_count_uploading/);
    assert.equal((await t.request('GET', `/image/v2/images/${queued}`, { token: demo })).json.status, 'queued');
  });

  test('staging counts as uploading, and import checks image_size_total: 413s that leave the image queued', async () => {
    const queued = (await t.request('GET', '/image/v2/images?status=queued', { token: demo })).json.images[0].id;
    const staged = await t.request('PUT', `/image/v2/images/${queued}/stage`, { token: demo, rawBody: 'x'.repeat(10), headers: OCTET });
    assert.equal(staged.status, 413, staged.text);
    assert.match(staged.text, /image_count_uploading/);
    assert.equal((await t.request('GET', `/image/v2/images/${queued}`, { token: demo })).json.status, 'queued');

    // Keystone lists a project-scoped caller only its own project's limits: ask with system scope.
    const system = (await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { system: { all: true } })).token;
    const limits = (await t.request('GET', `/identity/v3/limits?resource_name=image_size_total&project_id=${demoProject}`, { token: system })).json.limits;
    const lowered = await t.request('PATCH', `/identity/v3/limits/${limits[0].id}`, { token: admin, body: { limit: { resource_limit: 1 } } });
    assert.equal(lowered.status, 200, lowered.text);
    const imported = await t.request('POST', `/image/v2/images/${queued}/import`, { token: demo, body: { method: { name: 'web-download', uri: 'http://127.0.0.1:1/x' } } });
    assert.equal(imported.status, 413, imported.text);
    assert.match(imported.text, /image_size_total is over limit of 1/);
    const after = (await t.request('GET', `/image/v2/images/${queued}`, { token: demo })).json;
    assert.equal(after.status, 'queued');
    assert.equal(after.os_glance_import_task, undefined);
  });
});

describe('image quotas off (the default)', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => t.close());

  test('nothing is enforced and /v2/info/usage is empty', async () => {
    const admin = await t.adminToken();
    assert.equal((await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'free' } })).status, 201);
    const usage = await t.request('GET', '/image/v2/info/usage', { token: admin });
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.json, { usage: {} });
  });
});
