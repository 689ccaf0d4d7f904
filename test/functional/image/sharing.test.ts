import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };

describe('image visibility and members', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let demoProject: string;
  let adminProject: string;
  before(async () => {
    t = await startTestCloud({ set: { 'image.user_storage_quota': 1000 } });
    admin = await t.adminToken();
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    demoProject = login.json.token.project.id;
    adminProject = (await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin } })).json.token.project.id;
  });
  after(async () => t.close());

  test('only admins publicize; private images are invisible to others (404), owned-by-others are 403 to modify', async () => {
    assert.equal((await t.request('POST', '/image/v2/images', { token: demo, body: { name: 'x', visibility: 'public' } })).status, 403);
    const pub = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'pub', visibility: 'public' } })).json;
    const priv = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'priv', visibility: 'private' } })).json;
    assert.equal((await t.request('GET', `/image/v2/images/${priv.id}`, { token: demo })).status, 404);
    assert.equal((await t.request('GET', `/image/v2/images/${pub.id}`, { token: demo })).status, 200);
    assert.equal((await t.request('DELETE', `/image/v2/images/${pub.id}`, { token: demo })).status, 403);
    const patch = await t.request('PATCH', `/image/v2/images/${pub.id}`, { token: demo, rawBody: JSON.stringify([{ op: 'replace', path: '/name', value: 'z' }]), headers: PATCH });
    assert.equal(patch.status, 403);
    const names = (await t.request('GET', '/image/v2/images', { token: demo })).json.images.map((i: { name: string }) => i.name);
    assert.ok(names.includes('pub'));
    assert.ok(!names.includes('priv'));
  });

  test('members: owner adds, member accepts, listing follows member_status', async () => {
    const shared = (await t.request('POST', '/image/v2/images', { token: admin, body: { name: 'shared-one' } })).json;
    assert.equal(shared.visibility, 'shared');
    assert.equal((await t.request('GET', `/image/v2/images/${shared.id}`, { token: demo })).status, 404);
    const added = await t.request('POST', `/image/v2/images/${shared.id}/members`, { token: admin, body: { member: demoProject } });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.json.status, 'pending');
    assert.equal(added.json.schema, '/v2/schemas/member');
    assert.equal((await t.request('POST', `/image/v2/images/${shared.id}/members`, { token: admin, body: { member: demoProject } })).status, 409);
    assert.equal((await t.request('GET', `/image/v2/images/${shared.id}`, { token: demo })).status, 200);
    const listPending = async () => (await t.request('GET', '/image/v2/images', { token: demo })).json.images.map((i: { id: string }) => i.id);
    assert.ok(!(await listPending()).includes(shared.id));
    const pending = await t.request('GET', '/image/v2/images?member_status=pending', { token: demo });
    assert.ok(pending.json.images.some((i: { id: string }) => i.id === shared.id));
    assert.equal((await t.request('PUT', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: admin, body: { status: 'accepted' } })).status, 403);
    assert.equal((await t.request('PUT', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: demo, body: { status: 'bogus' } })).status, 400);
    const accepted = await t.request('PUT', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: demo, body: { status: 'accepted' } });
    assert.equal(accepted.json.status, 'accepted');
    assert.ok((await listPending()).includes(shared.id));
    const members = await t.request('GET', `/image/v2/images/${shared.id}/members`, { token: admin });
    assert.equal(members.json.members.length, 1);
    assert.equal(members.json.schema, '/v2/schemas/members');
    assert.equal((await t.request('DELETE', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: demo })).status, 403);
    assert.equal((await t.request('DELETE', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `/image/v2/images/${shared.id}`, { token: demo })).status, 404);
    const priv = (await t.request('POST', '/image/v2/images', { token: admin, body: { visibility: 'private' } })).json;
    assert.equal((await t.request('POST', `/image/v2/images/${priv.id}/members`, { token: admin, body: { member: demoProject } })).status, 403);
    assert.ok(adminProject);
  });

  test('quota: an upload past user_storage_quota is 413 and the image stays queued', async () => {
    const image = (await t.request('POST', '/image/v2/images', { token: demo, body: { name: 'big', disk_format: 'raw', container_format: 'bare' } })).json;
    const res = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(2000) });
    assert.equal(res.statusCode, 413);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}`, { token: demo })).json.status, 'queued');
    const ok = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(500) });
    assert.equal(ok.statusCode, 204);
  });

  test('deactivate: non-admin download is 403, reactivate restores', async () => {
    const image = (await t.request('POST', '/image/v2/images', { token: demo, body: { name: 'd', disk_format: 'raw', container_format: 'bare' } })).json;
    await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${image.id}/file`, headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(10) });
    assert.equal((await t.request('POST', `/image/v2/images/${image.id}/actions/deactivate`, { token: demo })).status, 204);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}`, { token: demo })).json.status, 'deactivated');
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}/file`, { token: demo })).status, 403);
    assert.equal((await t.request('POST', `/image/v2/images/${image.id}/actions/reactivate`, { token: demo })).status, 204);
    assert.equal((await t.request('GET', `/image/v2/images/${image.id}/file`, { token: demo })).status, 200);
  });
});
