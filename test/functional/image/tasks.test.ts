import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { imageClient, projectToken } from './import-helpers.js';

describe('image tasks API', () => {
  let t: TestCloud;
  let img: ReturnType<typeof imageClient>;
  let member: ReturnType<typeof imageClient>;
  const ids: string[] = [];
  let skew = 0;
  before(async () => {
    t = await startTestCloud({ set: { 'image.limit_param_default': 2 }, clock: { now: () => new Date(Date.now() + skew) } });
    t.cloud.startWorkers();
    img = imageClient(t, await t.adminToken());
    member = imageClient(t, (await projectToken(t, 'tasks-member')).token);
    for (let i = 0; i < 3; i++) {
      const id = await member.create();
      await member.stage(id, randomBytes(100 + i));
      assert.equal((await member.import(id, { method: { name: 'glance-direct' } })).status, 202);
      await member.waitFor(id, (image) => image.status === 'active', 'active');
      ids.push(id);
    }
  });
  after(async () => t.close());

  test('GET /v2/tasks: admins only, stubs without input/result/message, newest first, paged with next', async () => {
    assert.equal((await member.json('GET', '/v2/tasks')).status, 403);
    const page = await img.json('GET', '/v2/tasks');
    assert.equal(page.status, 200);
    assert.equal(page.json.tasks.length, 2);
    assert.equal(page.json.first, '/v2/tasks');
    assert.equal(page.json.schema, '/v2/schemas/tasks');
    const stub = page.json.tasks[0];
    assert.deepEqual(Object.keys(stub).sort(), ['created_at', 'expires_at', 'id', 'owner', 'schema', 'self', 'status', 'type', 'updated_at']);
    assert.equal(stub.status, 'success');
    assert.match(stub.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const next = await img.json('GET', page.json.next);
    assert.equal(next.status, 200);
    const seen = [...page.json.tasks, ...next.json.tasks].map((x: { id: string }) => x.id);
    assert.equal(new Set(seen).size, 3);
    const asc = await img.json('GET', '/v2/tasks?sort_dir=asc&limit=10');
    assert.deepEqual(asc.json.tasks.map((x: { id: string }) => x.id), [...seen].reverse());
  });

  test('GET /v2/tasks: Glance\'s 400s for bad parameters', async () => {
    for (const [query, message] of [
      ['sort_dir=up', /Invalid sort direction: up/],
      ['status=done', /Invalid status value: done/],
      ['type=copy', /Invalid type value: copy/],
      ['marker=nope', /Invalid marker format/],
      ['limit=x', /limit param must be an integer/],
      ['limit=-1', /limit param must be positive/],
    ] as const) {
      const res = await img.json('GET', `/v2/tasks?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.json.message, message);
    }
    assert.equal((await img.json('GET', '/v2/tasks?status=success&limit=10')).json.tasks.length, 3);
    assert.equal((await img.json('GET', '/v2/tasks?status=failure')).json.tasks.length, 0);
  });

  test('GET /v2/tasks/{id}: the full task; unknown ids 404; DELETE is 405', async () => {
    const [task] = await member.tasks(ids[0] as string);
    const shown = await img.json('GET', `/v2/tasks/${task?.id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.json.image_id, ids[0]);
    assert.deepEqual(shown.json.result, { image_id: ids[0] });
    assert.equal(shown.json.message, '');
    assert.equal(shown.json.self, `/v2/tasks/${task?.id}`);
    assert.equal(shown.json.type, 'api_image_import');
    assert.match(shown.json.expires_at, /Z$/);
    assert.equal((await img.json('GET', '/v2/tasks/0f3d2c5e-1111-4222-8333-444455556666')).status, 404);
    const del = await img.json('DELETE', `/v2/tasks/${task?.id}`);
    assert.equal(del.status, 405);
    assert.equal(del.headers.allow, 'GET');
    assert.equal((await img.json('POST', '/v2/tasks', { type: 'import' })).status, 400);
  });

  test('GET /v2/images/{id}/tasks: visible to the owner, 404 for others', async () => {
    assert.equal((await member.tasks(ids[1] as string)).length, 1);
    const stranger = imageClient(t, (await projectToken(t, 'tasks-stranger')).token);
    assert.equal((await stranger.json('GET', `/v2/images/${ids[1]}/tasks`)).status, 404);
  });

  test('task schemas', async () => {
    const task = await img.json('GET', '/v2/schemas/task');
    assert.equal(task.json.name, 'task');
    assert.deepEqual(task.json.properties.status.enum, ['pending', 'processing', 'success', 'failure']);
    const tasks = await img.json('GET', '/v2/schemas/tasks');
    assert.equal(tasks.json.properties.tasks.items.properties.input, undefined);
  });

  test('finished tasks expire after task_time_to_live (48 h) and disappear', async () => {
    skew += 49 * 3600_000;
    const login = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
    const fresh = imageClient(t, login.token);
    assert.deepEqual((await fresh.json('GET', '/v2/tasks')).json.tasks, []);
    assert.deepEqual(await fresh.tasks(ids[0] as string), []);
  });
});
