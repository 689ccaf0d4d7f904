import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
/** Links follow the request's Host; inject() sends localhost:80. */
const BASE = 'http://localhost:80';

describe('identity: users', () => {
  let t: TestCloud;
  let admin: string;
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  const tick = () => clock.advance(1500);

  before(async () => {
    t = await startTestCloud({ clock });
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  const svc = () => t.cloud.identity.service;
  const createUser = async (user: Record<string, unknown>) => {
    const res = await t.request('POST', `${V3}/users`, { token: admin, body: { user } });
    assert.equal(res.status, 201, res.text);
    return res.json.user;
  };

  it('creates a user with Keystone fields and extras, and GET returns the same entity', async () => {
    const res = await t.request('POST', `${V3}/users`, {
      token: admin,
      body: { user: { name: 'alice', password: 'alice-pw-1', email: 'alice@example.org', description: 'Alice', enabled: true, 'OS-X:flag': 'y' } },
    });
    assert.equal(res.status, 201);
    const user = res.json.user;
    assert.match(user.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(user, {
      id: user.id,
      name: 'alice',
      domain_id: 'default',
      enabled: true,
      password_expires_at: null,
      options: {},
      email: 'alice@example.org',
      description: 'Alice',
      OS_X_flag: 'y',
      links: { self: `${BASE}/identity/v3/users/${user.id}` },
    });
    const get = await t.request('GET', `${V3}/users/${user.id}`, { token: admin });
    assert.equal(get.status, 200);
    assert.deepEqual(get.json.user, user);
    const head = await t.request('HEAD', `${V3}/users/${user.id}`, { token: admin });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('keeps default_project_id and options, and never returns the password', async () => {
    const project = await svc().resource.getProject((await svc().resource.findProjectByName('demo', 'default'))!.id);
    const user = await createUser({ name: 'bob', password: 'pw-bob-1', default_project_id: project.id, options: { ignore_password_expiry: true, multi_factor_auth_rules: [['password', 'totp']] } });
    assert.equal(user.default_project_id, project.id);
    assert.deepEqual(user.options, { ignore_password_expiry: true, multi_factor_auth_rules: [['password', 'totp']] });
    assert.equal(user.password, undefined);
    const login = await t.login({ name: 'bob', password: 'pw-bob-1' }, 'unscoped');
    assert.equal(login.status, 201);
    assert.equal(login.json.token.user.id, user.id);
  });

  it('rejects bad create requests with Keystone status codes and changes nothing', async () => {
    const post = (user: unknown) => t.request('POST', `${V3}/users`, { token: admin, body: { user } });
    const before = (await t.request('GET', `${V3}/users`, { token: admin })).json.users.length;
    assert.equal((await post({ name: '' })).status, 400);
    assert.equal((await post({ name: '   ' })).status, 400);
    assert.equal((await post({ name: 'x'.repeat(256) })).status, 400);
    assert.equal((await post({ name: 'nb', enabled: 'true' })).status, 400);
    assert.equal((await post({ name: 'nb', options: { not_an_option: true } })).status, 400);
    assert.equal((await post({ name: 'nb', options: { lock_password: 'yes' } })).status, 400);
    assert.equal((await post({ name: 'nb', password: 'x'.repeat(4097) })).status, 400);
    assert.equal((await post({ name: 'nb', default_project_id: 'default' })).status, 400);
    assert.equal((await t.request('POST', `${V3}/users`, { token: admin, body: {} })).status, 400);
    const missingDomain = await post({ name: 'nb', domain_id: 'f'.repeat(32) });
    assert.equal(missingDomain.status, 404);
    assert.equal(missingDomain.json.error.message, `Could not find domain: ${'f'.repeat(32)}.`);
    const dup = await post({ name: 'alice' });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.title, 'Conflict');
    assert.equal((await t.request('POST', `${V3}/users`, { body: { user: { name: 'anon' } } })).status, 401);
    const after = (await t.request('GET', `${V3}/users`, { token: admin })).json.users.length;
    assert.equal(after, before);
    const federated = await post({ name: 'fed', federated: [{ idp_id: 'idp1', protocols: [{ protocol_id: 'saml2', unique_id: 'u1' }] }] });
    assert.equal(federated.status, 400);
    assert.equal(federated.json.error.message, 'Could not find Identity Provider: idp1');
  });

  it('answers 409, never 500, when the same name is created concurrently', async () => {
    const results = await Promise.all([1, 2, 3].map(() => t.request('POST', `${V3}/users`, { token: admin, body: { user: { name: 'racer', password: 'race-pw' } } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409]);
    const groups = await Promise.all([1, 2].map(() => t.request('POST', `${V3}/groups`, { token: admin, body: { group: { name: 'race-group' } } })));
    assert.deepEqual(groups.map((r) => r.status).sort(), [201, 409]);
  });

  it('lists users with Keystone filters', async () => {
    const domain = await svc().resource.createProject({ name: 'users-dom', domainId: 'default', isDomain: true });
    const inDomain = await createUser({ name: 'carol', domain_id: domain.id, email: 'c@x' });
    const disabled = await createUser({ name: 'dave', enabled: false });
    const list = async (query: string) => {
      const res = await t.request('GET', `${V3}/users${query}`, { token: admin });
      assert.equal(res.status, 200, res.text);
      return res;
    };
    const all = await list('');
    assert.deepEqual(all.json.links, { self: `${BASE}/identity/v3/users`, previous: null, next: null });
    assert.ok(all.json.users.some((u: { id: string }) => u.id === inDomain.id));
    const byDomain = await list(`?domain_id=${domain.id}`);
    assert.deepEqual(byDomain.json.users.map((u: { id: string }) => u.id), [inDomain.id]);
    assert.equal(byDomain.json.links.self, `${BASE}/identity/v3/users?domain_id=${domain.id}`);
    const notEnabled = await list('?enabled=False');
    assert.deepEqual(notEnabled.json.users.map((u: { name: string }) => u.name), ['dave']);
    assert.equal(notEnabled.json.users[0].id, disabled.id);
    const enabled = (await list('?enabled=true')).json.users.map((u: { name: string }) => u.name);
    assert.ok(enabled.includes('alice') && !enabled.includes('dave'));
    assert.deepEqual((await list('?name=carol')).json.users.map((u: { id: string }) => u.id), [inDomain.id]);
    assert.deepEqual((await list('?name__icontains=ARO')).json.users.map((u: { name: string }) => u.name), ['carol']);
    assert.deepEqual((await list('?name__startswith=al')).json.users.map((u: { name: string }) => u.name), ['alice']);
    assert.deepEqual((await list('?idp_id=x')).json.users, []);
    assert.deepEqual((await list('?password_expires_at=lt:2100-01-01T00:00:00Z')).json.users, []);
    const badOp = await t.request('GET', `${V3}/users?password_expires_at=foo:2016-11-06T15:32:17Z`, { token: admin });
    assert.equal(badOp.status, 400);
    assert.match(badOp.json.error.message, /The given operator foo is not valid/);
    const badTime = await t.request('GET', `${V3}/users?password_expires_at=lt:yesterday`, { token: admin });
    assert.equal(badTime.status, 400);
    assert.match(badTime.json.error.message, /^Timestamp not in expected format/);
  });

  it('updates users: fields, extras and options merge; Keystone echoes `extra` on PATCH', async () => {
    const user = await createUser({ name: 'erin', password: 'erin-pw-1', email: 'e@x', description: 'd1', options: { lock_password: true, ignore_user_inactivity: true } });
    const res = await t.request('PATCH', `${V3}/users/${user.id}`, {
      token: admin,
      body: { user: { id: user.id, name: 'erin2', description: 'd2', project_id: 'p1', email: 'e2@x', enabled: false, options: { lock_password: null, ignore_password_expiry: true } } },
    });
    assert.equal(res.status, 200, res.text);
    const updated = res.json.user;
    assert.equal(updated.name, 'erin2');
    assert.equal(updated.description, 'd2');
    assert.equal(updated.project_id, 'p1');
    assert.equal(updated.email, 'e2@x');
    assert.equal(updated.enabled, false);
    assert.deepEqual(updated.options, { ignore_user_inactivity: true, ignore_password_expiry: true });
    assert.deepEqual(updated.extra, { email: 'e2@x', description: 'd2', project_id: 'p1' });
    const get = (await t.request('GET', `${V3}/users/${user.id}`, { token: admin })).json.user;
    assert.equal(get.extra, undefined);
    assert.equal(get.name, 'erin2');
    assert.equal(get.project_id, 'p1');
    assert.equal(get.enabled, false);

    const patch = (body: unknown) => t.request('PATCH', `${V3}/users/${user.id}`, { token: admin, body: { user: body } });
    assert.equal((await patch({})).status, 400);
    assert.equal((await patch({ id: 'other' })).status, 400);
    const moved = await patch({ domain_id: 'f'.repeat(32) });
    assert.equal(moved.status, 400);
    assert.equal(moved.json.error.message, 'Cannot change Domain ID');
    assert.equal((await patch({ name: 'alice' })).status, 409);
    assert.equal((await patch({ enabled: 1 })).status, 400);
    const missing = await t.request('PATCH', `${V3}/users/${'a'.repeat(32)}`, { token: admin, body: { user: { name: 'zz' } } });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.message, `Could not find user: ${'a'.repeat(32)}.`);
  });

  it('disabling a user revokes their tokens and blocks authentication', async () => {
    const user = await createUser({ name: 'frank', password: 'frank-pw-1' });
    const login = await t.login({ name: 'frank', password: 'frank-pw-1' });
    assert.equal(login.status, 201);
    const self = await t.request('GET', `${V3}/users/${user.id}`, { token: login.token });
    assert.equal(self.status, 200);
    tick();
    const off = await t.request('PATCH', `${V3}/users/${user.id}`, { token: admin, body: { user: { enabled: false } } });
    assert.equal(off.status, 200);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: login.token })).status, 401);
    assert.equal((await t.login({ name: 'frank', password: 'frank-pw-1' })).status, 401);
    tick();
    await t.request('PATCH', `${V3}/users/${user.id}`, { token: admin, body: { user: { enabled: true } } });
    tick();
    assert.equal((await t.login({ name: 'frank', password: 'frank-pw-1' })).status, 201);
  });

  it('an admin password reset revokes tokens; the old password stops working', async () => {
    const user = await createUser({ name: 'gina', password: 'gina-pw-1' });
    const login = await t.login({ name: 'gina', password: 'gina-pw-1' });
    tick();
    const reset = await t.request('PATCH', `${V3}/users/${user.id}`, { token: admin, body: { user: { password: 'gina-pw-2' } } });
    assert.equal(reset.status, 200);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: login.token })).status, 401);
    tick();
    assert.equal((await t.login({ name: 'gina', password: 'gina-pw-1' })).status, 401);
    assert.equal((await t.login({ name: 'gina', password: 'gina-pw-2' })).status, 201);
  });

  it('changes the own password without a token; wrong originals get 401 and old tokens stop working', async () => {
    const user = await createUser({ name: 'hank', password: 'hank-pw-1' });
    const login = await t.login({ name: 'hank', password: 'hank-pw-1' });
    const change = (original: string, password: string) => t.request('POST', `${V3}/users/${user.id}/password`, { body: { user: { original_password: original, password } } });
    const wrong = await change('nope', 'hank-pw-2');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.message, 'The request you have made requires authentication.');
    assert.equal((await t.request('POST', `${V3}/users/${user.id}/password`, { body: { user: { password: 'x' } } })).status, 400);
    assert.equal((await t.request('POST', `${V3}/users/${user.id}/password`, { body: { user: { password: 'x', original_password: 'hank-pw-1', extra: 1 } } })).status, 400);
    assert.equal((await change('hank-pw-1', 'y'.repeat(4097))).status, 400);
    const ok = await change('hank-pw-1', 'hank-pw-2');
    assert.equal(ok.status, 204);
    assert.equal(ok.text, '');
    tick();
    const rescope = await t.request('POST', `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ['token'], token: { id: login.token } } } } });
    assert.equal(rescope.status, 404);
    assert.equal((await t.login({ name: 'hank', password: 'hank-pw-1' })).status, 401);
    assert.equal((await t.login({ name: 'hank', password: 'hank-pw-2' })).status, 201);
    assert.equal((await t.request('POST', `${V3}/users/${'b'.repeat(32)}/password`, { body: { user: { original_password: 'a', password: 'b' } } })).status, 401);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}/password`, { token: admin })).status, 405);
  });

  it('lists a user’s projects and groups; owners may read their own, others get 403', async () => {
    const user = await createUser({ name: 'ivy', password: 'ivy-pw-1' });
    const roleId = (await svc().core.db.selectFrom('identity_roles').select('id').where('name', '=', 'member').executeTakeFirstOrThrow()).id;
    const p1 = await svc().resource.createProject({ name: 'ivy-p1', domainId: 'default' });
    const p2 = await svc().resource.createProject({ name: 'ivy-p2', domainId: 'default' });
    await svc().assignments.grant('UserProject', user.id, p1.id, roleId);
    const group = await t.request('POST', `${V3}/groups`, { token: admin, body: { group: { name: 'ivy-group' } } });
    assert.equal(group.status, 201);
    assert.equal((await t.request('PUT', `${V3}/groups/${group.json.group.id}/users/${user.id}`, { token: admin })).status, 204);
    await svc().assignments.grant('GroupProject', group.json.group.id, p2.id, roleId);

    const projects = await t.request('GET', `${V3}/users/${user.id}/projects`, { token: admin });
    assert.equal(projects.status, 200);
    assert.deepEqual(projects.json.projects.map((p: { name: string }) => p.name), ['ivy-p1', 'ivy-p2']);
    assert.equal(projects.json.projects[0].links.self, `${BASE}/identity/v3/projects/${p1.id}`);
    assert.deepEqual((await t.request('GET', `${V3}/users/${user.id}/projects?name=ivy-p2`, { token: admin })).json.projects.map((p: { id: string }) => p.id), [p2.id]);

    const groups = await t.request('GET', `${V3}/users/${user.id}/groups`, { token: admin });
    assert.equal(groups.status, 200);
    assert.deepEqual(groups.json.groups, [{ ...group.json.group, membership_expires_at: null }]);

    const own = await t.login({ name: 'ivy', password: 'ivy-pw-1' }, { project: { id: p1.id } });
    assert.equal(own.status, 201);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}/projects`, { token: own.token })).status, 200);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}/groups`, { token: own.token })).status, 200);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: own.token })).status, 200);
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: demo.token })).status, 403);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}/projects`, { token: demo.token })).status, 403);
    assert.equal((await t.request('GET', `${V3}/users`, { token: demo.token })).status, 403);
    assert.equal((await t.request('PATCH', `${V3}/users/${user.id}`, { token: own.token, body: { user: { name: 'x' } } })).status, 403);
    assert.equal((await t.request('GET', `${V3}/users/${'c'.repeat(32)}/groups`, { token: admin })).status, 404);
  });

  it('deleting a user removes memberships, grants and credentials and revokes tokens', async () => {
    const user = await createUser({ name: 'jack', password: 'jack-pw-1' });
    const roleId = (await svc().core.db.selectFrom('identity_roles').select('id').where('name', '=', 'member').executeTakeFirstOrThrow()).id;
    const demoProject = (await svc().resource.findProjectByName('demo', 'default'))!;
    await svc().assignments.grant('UserProject', user.id, demoProject.id, roleId);
    const group = (await t.request('POST', `${V3}/groups`, { token: admin, body: { group: { name: 'jack-group' } } })).json.group;
    await t.request('PUT', `${V3}/groups/${group.id}/users/${user.id}`, { token: admin });
    await svc().core.db.insertInto('identity_credentials').values({ id: 'c'.repeat(32), user_id: user.id, project_id: null, type: 'ec2', encrypted_blob: 'x', extra: '{}', created_at: new Date().toISOString() }).execute();
    const login = await t.login({ name: 'jack', password: 'jack-pw-1' }, { project: { id: demoProject.id } });
    assert.equal(login.status, 201);
    tick();
    const del = await t.request('DELETE', `${V3}/users/${user.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: admin })).status, 404);
    assert.equal((await t.request('DELETE', `${V3}/users/${user.id}`, { token: admin })).status, 404);
    assert.equal((await t.request('GET', `${V3}/auth/catalog`, { token: login.token })).status, 401);
    const db = svc().core.db;
    assert.equal((await db.selectFrom('identity_assignments').selectAll().where('actor_id', '=', user.id).execute()).length, 0);
    assert.equal((await db.selectFrom('identity_group_members').selectAll().where('user_id', '=', user.id).execute()).length, 0);
    assert.equal((await db.selectFrom('identity_credentials').selectAll().where('user_id', '=', user.id).execute()).length, 0);
    assert.equal((await db.selectFrom('identity_passwords').selectAll().where('user_id', '=', user.id).execute()).length, 0);
    assert.deepEqual((await t.request('GET', `${V3}/groups/${group.id}/users`, { token: admin })).json.users, []);
  });

  it('creates users in the caller’s domain when a domain-scoped token omits domain_id', async () => {
    const domainToken = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { domain: { id: 'default' } });
    assert.equal(domainToken.status, 201);
    const res = await t.request('POST', `${V3}/users`, { token: domainToken.token, body: { user: { name: 'kate' } } });
    assert.equal(res.status, 201);
    assert.equal(res.json.user.domain_id, 'default');
  });
});
