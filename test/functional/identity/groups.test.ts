import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
const BASE = 'http://localhost:80';

describe('identity: groups', () => {
  let t: TestCloud;
  let admin: string;
  let domainId: string;
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));

  before(async () => {
    t = await startTestCloud({ clock });
    admin = await t.adminToken();
    domainId = (await t.cloud.identity.service.resource.createProject({ name: 'groups-dom', domainId: 'default', isDomain: true })).id;
  });
  after(async () => {
    await t.close();
  });

  const createGroup = async (group: Record<string, unknown>) => {
    const res = await t.request('POST', `${V3}/groups`, { token: admin, body: { group } });
    assert.equal(res.status, 201, res.text);
    return res.json.group;
  };
  const createUser = async (name: string, password = 'pw-12345') => {
    const res = await t.request('POST', `${V3}/users`, { token: admin, body: { user: { name, password, email: `${name}@x` } } });
    assert.equal(res.status, 201, res.text);
    return res.json.user;
  };

  it('creates, shows, updates and deletes groups', async () => {
    const group = await createGroup({ name: 'g1', domain_id: domainId, description: 'first', color: 'blue' });
    assert.deepEqual(group, { id: group.id, name: 'g1', domain_id: domainId, description: 'first', color: 'blue', links: { self: `${BASE}/identity/v3/groups/${group.id}` } });
    const plain = await createGroup({ name: 'g-plain' });
    assert.equal(plain.domain_id, 'default');
    assert.equal(plain.description, '');

    const show = await t.request('GET', `${V3}/groups/${group.id}`, { token: admin });
    assert.equal(show.status, 200);
    assert.deepEqual(show.json.group, group);

    const upd = await t.request('PATCH', `${V3}/groups/${group.id}`, { token: admin, body: { group: { name: 'g1-new', description: 'second' } } });
    assert.equal(upd.status, 200);
    assert.equal(upd.json.group.name, 'g1-new');
    assert.equal(upd.json.group.description, 'second');
    const rename = await t.request('PATCH', `${V3}/groups/${group.id}`, { token: admin, body: { group: { name: 'g1-final' } } });
    assert.equal(rename.json.group.description, 'second');
    assert.equal(rename.json.group.domain_id, domainId);
    assert.equal(rename.json.group.color, 'blue');
    assert.equal((await t.request('GET', `${V3}/groups/${group.id}`, { token: admin })).json.group.name, 'g1-final');

    const del = await t.request('DELETE', `${V3}/groups/${group.id}`, { token: admin });
    assert.equal(del.status, 204);
    const gone = await t.request('GET', `${V3}/groups/${group.id}`, { token: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.message, `Could not find group: ${group.id}.`);
    assert.equal((await t.request('DELETE', `${V3}/groups/${group.id}`, { token: admin })).status, 404);
  });

  it('rejects invalid group requests', async () => {
    const post = (group: unknown) => t.request('POST', `${V3}/groups`, { token: admin, body: { group } });
    assert.equal((await post({ name: '' })).status, 400);
    assert.equal((await post({ name: 'x'.repeat(65) })).status, 400);
    assert.equal((await post({ description: 'no name' })).status, 400);
    assert.equal((await post({ name: 'ok', domain_id: 'bad id!' })).status, 400);
    assert.equal((await post({ name: 'ok', domain_id: 'f'.repeat(32) })).status, 404);
    await createGroup({ name: 'dup', domain_id: domainId });
    const dup = await post({ name: 'dup', domain_id: domainId });
    assert.equal(dup.status, 409);
    assert.match(dup.json.error.message, /Duplicate entry found with name dup/);
    // The same name in another domain is fine.
    await createGroup({ name: 'dup' });
    const g = await createGroup({ name: 'patch-me' });
    const patch = (body: unknown) => t.request('PATCH', `${V3}/groups/${g.id}`, { token: admin, body: { group: body } });
    assert.equal((await patch({})).status, 400);
    assert.equal((await patch({ domain_id: domainId })).status, 400);
    assert.equal((await patch({ id: 'other' })).status, 400);
    assert.equal((await patch({ name: 'dup' })).status, 409);
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal((await t.request('POST', `${V3}/groups`, { token: demo.token, body: { group: { name: 'nope' } } })).status, 403);
    assert.equal((await t.request('GET', `${V3}/groups`, { token: demo.token })).status, 403);
  });

  it('lists groups with name and domain filters', async () => {
    const a = await createGroup({ name: 'list-a', domain_id: domainId });
    const b = await createGroup({ name: 'list-b' });
    const all = await t.request('GET', `${V3}/groups`, { token: admin });
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.links, { self: `${BASE}/identity/v3/groups`, previous: null, next: null });
    const ids = all.json.groups.map((g: { id: string }) => g.id);
    assert.ok(ids.includes(a.id) && ids.includes(b.id));
    const byDomain = (await t.request('GET', `${V3}/groups?domain_id=${domainId}`, { token: admin })).json.groups;
    assert.ok(byDomain.every((g: { domain_id: string }) => g.domain_id === domainId));
    assert.ok(byDomain.some((g: { id: string }) => g.id === a.id));
    assert.deepEqual((await t.request('GET', `${V3}/groups?name=list-b`, { token: admin })).json.groups, [b]);
    assert.deepEqual((await t.request('GET', `${V3}/groups?name__startswith=list-`, { token: admin })).json.groups.map((g: { name: string }) => g.name), ['list-a', 'list-b']);
  });

  it('adds, checks, lists and removes members (Tempest test_group_users_add_list_delete)', async () => {
    const group = await createGroup({ name: 'members', domain_id: domainId });
    const users = [await createUser('m1'), await createUser('m2'), await createUser('m3')];
    for (const u of users) {
      const put = await t.request('PUT', `${V3}/groups/${group.id}/users/${u.id}`, { token: admin });
      assert.equal(put.status, 204);
    }
    assert.equal((await t.request('PUT', `${V3}/groups/${group.id}/users/${users[0].id}`, { token: admin })).status, 204, 'adding twice is fine');
    const listed = await t.request('GET', `${V3}/groups/${group.id}/users`, { token: admin });
    assert.equal(listed.status, 200);
    // The create response and the member listing are the same entities.
    assert.deepEqual(listed.json.users, users);
    assert.equal(listed.json.links.self, `${BASE}/identity/v3/groups/${group.id}/users`);
    assert.deepEqual((await t.request('GET', `${V3}/groups/${group.id}/users?name=m2`, { token: admin })).json.users, [users[1]]);
    for (const u of users) {
      const head = await t.request('HEAD', `${V3}/groups/${group.id}/users/${u.id}`, { token: admin });
      assert.equal(head.status, 204);
      assert.equal((await t.request('GET', `${V3}/groups/${group.id}/users/${u.id}`, { token: admin })).status, 204);
      assert.equal((await t.request('DELETE', `${V3}/groups/${group.id}/users/${u.id}`, { token: admin })).status, 204);
    }
    assert.deepEqual((await t.request('GET', `${V3}/groups/${group.id}/users`, { token: admin })).json.users, []);
    const notMember = await t.request('HEAD', `${V3}/groups/${group.id}/users/${users[0].id}`, { token: admin });
    assert.equal(notMember.status, 404);
    const removeAgain = await t.request('DELETE', `${V3}/groups/${group.id}/users/${users[0].id}`, { token: admin });
    assert.equal(removeAgain.status, 404);
    assert.equal(removeAgain.json.error.message, `User '${users[0].id}' not found in group '${group.id}'`);
    const noUser = await t.request('PUT', `${V3}/groups/${group.id}/users/${'a'.repeat(32)}`, { token: admin });
    assert.equal(noUser.status, 404);
    assert.equal(noUser.json.error.message, `Could not find user: ${'a'.repeat(32)}.`);
    assert.equal((await t.request('PUT', `${V3}/groups/${'b'.repeat(32)}/users/${users[0].id}`, { token: admin })).status, 404);
    assert.equal((await t.request('GET', `${V3}/groups/${'b'.repeat(32)}/users`, { token: admin })).status, 404);
  });

  it('lists a user’s groups (Tempest test_list_user_groups)', async () => {
    const user = await createUser('multi');
    const groups = [await createGroup({ name: 'ug-1', domain_id: domainId }), await createGroup({ name: 'ug-2', domain_id: domainId })];
    for (const g of groups) await t.request('PUT', `${V3}/groups/${g.id}/users/${user.id}`, { token: admin });
    const res = await t.request('GET', `${V3}/users/${user.id}/groups`, { token: admin });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.groups, groups.map((g) => ({ ...g, membership_expires_at: null })));
  });

  it('group roles follow membership: removal revokes tokens, deleting the group drops its grants', async () => {
    const svc = t.cloud.identity.service;
    const user = await createUser('grantee', 'grantee-pw');
    const group = await createGroup({ name: 'role-group' });
    const project = await svc.resource.createProject({ name: 'group-proj', domainId: 'default' });
    const member = await svc.core.db.selectFrom('identity_roles').select('id').where('name', '=', 'member').executeTakeFirstOrThrow();
    await svc.assignments.grant('GroupProject', group.id, project.id, member.id);
    const scope = { project: { id: project.id } };
    assert.equal((await t.login({ name: 'grantee', password: 'grantee-pw' }, scope)).status, 401, 'no role before joining');
    await t.request('PUT', `${V3}/groups/${group.id}/users/${user.id}`, { token: admin });
    const login = await t.login({ name: 'grantee', password: 'grantee-pw' }, scope);
    assert.equal(login.status, 201);
    assert.deepEqual(login.json.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    clock.advance(1500);
    assert.equal((await t.request('DELETE', `${V3}/groups/${group.id}/users/${user.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `${V3}/auth/catalog`, { token: login.token })).status, 401);
    clock.advance(1500);
    assert.equal((await t.login({ name: 'grantee', password: 'grantee-pw' }, scope)).status, 401);

    await t.request('PUT', `${V3}/groups/${group.id}/users/${user.id}`, { token: admin });
    assert.equal((await t.login({ name: 'grantee', password: 'grantee-pw' }, scope)).status, 201);
    assert.equal((await t.request('DELETE', `${V3}/groups/${group.id}`, { token: admin })).status, 204);
    const grants = await svc.core.db.selectFrom('identity_assignments').selectAll().where('actor_id', '=', group.id).execute();
    assert.equal(grants.length, 0);
    clock.advance(1500);
    assert.equal((await t.login({ name: 'grantee', password: 'grantee-pw' }, scope)).status, 401);
  });
});
