import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: domains', () => {
  let t: TestCloud;
  let admin: string;
  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  const create = async (body: Record<string, unknown>) => t.request('POST', `${V3}/domains`, { token: admin, body: { domain: body } });

  it('creates a domain with Keystone fields, keeps extra attributes and lists it', async () => {
    const res = await create({ name: 'dom-a', description: 'first', tags: ['x', 'y'], color: 'blue' });
    assert.equal(res.status, 201);
    const d = res.json.domain;
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.equal(d.name, 'dom-a');
    assert.equal(d.description, 'first');
    assert.equal(d.enabled, true);
    assert.deepEqual(d.tags, ['x', 'y']);
    assert.deepEqual(d.options, {});
    assert.equal(d.color, 'blue');
    assert.match(d.links.self, new RegExp(`^https?://[^/]+${V3}/domains/${d.id}$`));
    assert.equal('domain_id' in d, false);
    assert.equal('parent_id' in d, false);

    const noDesc = await create({ name: 'dom-b' });
    assert.equal(noDesc.json.domain.description, '');

    const list = await t.request('GET', `${V3}/domains`, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.json.links).sort(), ['next', 'previous', 'self']);
    assert.ok(list.json.links.self.endsWith(`${V3}/domains`));
    const ids = list.json.domains.map((x: { id: string }) => x.id);
    assert.ok(ids.includes('default') && ids.includes(d.id) && ids.includes(noDesc.json.domain.id));
    assert.deepEqual(list.json.domains.find((x: { id: string }) => x.id === d.id), d);

    const show = await t.request('GET', `${V3}/domains/${d.id}`, { token: admin });
    assert.equal(show.status, 200);
    assert.deepEqual(show.json.domain, d);
  });

  it('filters by name and enabled', async () => {
    const off = await create({ name: 'dom-off', enabled: false });
    assert.equal(off.json.domain.enabled, false);
    const byName = await t.request('GET', `${V3}/domains?name=dom-off`, { token: admin });
    assert.deepEqual(byName.json.domains.map((x: { name: string }) => x.name), ['dom-off']);
    assert.ok(byName.json.links.self.endsWith('/domains?name=dom-off'));
    const enabled = await t.request('GET', `${V3}/domains?enabled=true`, { token: admin });
    assert.ok(enabled.json.domains.length >= 2);
    assert.ok(enabled.json.domains.every((x: { enabled: boolean }) => x.enabled === true));
    const disabled = await t.request('GET', `${V3}/domains?enabled=false`, { token: admin });
    assert.ok(disabled.json.domains.some((x: { name: string }) => x.name === 'dom-off'));
    assert.ok(disabled.json.domains.every((x: { enabled: boolean }) => x.enabled === false));
    const contains = await t.request('GET', `${V3}/domains?name__icontains=DOM-O`, { token: admin });
    assert.deepEqual(contains.json.domains.map((x: { name: string }) => x.name), ['dom-off']);
  });

  it('validates names and refuses duplicates', async () => {
    for (const name of ['', 'a'.repeat(65), '   ']) {
      const res = await create({ name });
      assert.equal(res.status, 400, `name ${JSON.stringify(name)}`);
      assert.equal(res.json.error.code, 400);
      assert.equal(res.json.error.title, 'Bad Request');
    }
    assert.equal((await create({})).status, 400);
    assert.equal((await create({ name: 'ok', enabled: 'yes' })).status, 400);
    assert.equal((await create({ name: 'ok', tags: ['a/b'] })).status, 400);
    assert.equal((await create({ name: 'dup-dom' })).status, 201);
    const dup = await create({ name: 'dup-dom' });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.title, 'Conflict');
    assert.match(dup.json.error.message, /acting as domains with the same name: dup-dom/);
  });

  it('accepts an explicit domain id only in Keystone format', async () => {
    const id = 'ab'.repeat(16);
    const ok = await create({ name: 'explicit', explicit_domain_id: id });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.domain.id, id);
    assert.equal('explicit_domain_id' in ok.json.domain, false);
    const bad = await create({ name: 'explicit2', explicit_domain_id: 'not-a-uuid' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.message, 'Domain ID does not conform to required UUID format.');
  });

  it('updates, refuses to delete enabled domains, deletes disabled ones', async () => {
    const d = (await create({ name: 'upd-dom', description: 'old' })).json.domain;
    const upd = await t.request('PATCH', `${V3}/domains/${d.id}`, { token: admin, body: { domain: { name: 'upd-dom2', description: 'new', enabled: false, extra_field: 1 } } });
    assert.equal(upd.status, 200);
    assert.equal(upd.json.domain.name, 'upd-dom2');
    assert.equal(upd.json.domain.description, 'new');
    assert.equal(upd.json.domain.enabled, false);
    assert.equal(upd.json.domain.extra_field, 1);
    assert.equal((await t.request('PATCH', `${V3}/domains/${d.id}`, { token: admin, body: { domain: {} } })).status, 400);
    assert.equal((await t.request('PATCH', `${V3}/domains/nope`, { token: admin, body: { domain: { name: 'x' } } })).status, 404);
    const active = (await create({ name: 'active-dom' })).json.domain;
    const refused = await t.request('DELETE', `${V3}/domains/${active.id}`, { token: admin });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.message, 'Cannot delete a domain that is enabled, please disable it first.');
    const del = await t.request('DELETE', `${V3}/domains/${d.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal((await t.request('GET', `${V3}/domains/${d.id}`, { token: admin })).status, 404);
    const missing = await t.request('DELETE', `${V3}/domains/${'0'.repeat(32)}`, { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.message, `Could not find domain: ${'0'.repeat(32)}.`);
  });

  it('deleting a domain cascades to its projects, users, groups, roles, grants and configs', async () => {
    const d = (await create({ name: 'cascade-dom' })).json.domain;
    const parent = await t.request('POST', `${V3}/projects`, { token: admin, body: { project: { name: 'p1', domain_id: d.id } } });
    const child = await t.request('POST', `${V3}/projects`, { token: admin, body: { project: { name: 'p2', domain_id: d.id, parent_id: parent.json.project.id } } });
    assert.equal(child.status, 201);
    const db = t.cloud.identity.service.core.db;
    await db.insertInto('identity_users').values({ id: 'u-casc', name: 'u', domain_id: d.id, enabled: 1, default_project_id: null, extra: '{}', options: '{}', failed_auth_count: 0, failed_auth_at: null, last_active_at: null, created_at: '2024-01-01T00:00:00.000000Z' }).execute();
    await db.insertInto('identity_groups').values({ id: 'g-casc', name: 'g', domain_id: d.id, description: null, extra: '{}' }).execute();
    await db.insertInto('identity_group_members').values({ group_id: 'g-casc', user_id: 'u-casc' }).execute();
    await db.insertInto('identity_roles').values({ id: 'r-casc', name: 'r', domain_id: d.id, description: null, options: '{}', extra: '{}' }).execute();
    const member = await db.selectFrom('identity_roles').select('id').where('name', '=', 'member').executeTakeFirstOrThrow();
    await db.insertInto('identity_assignments').values([
      { type: 'UserProject', actor_id: 'u-casc', target_id: child.json.project.id, role_id: member.id, inherited: 0 },
      { type: 'GroupDomain', actor_id: 'g-casc', target_id: d.id, role_id: member.id, inherited: 0 },
      { type: 'UserProject', actor_id: 'someone-else', target_id: parent.json.project.id, role_id: 'r-casc', inherited: 0 },
    ]).execute();
    assert.equal((await t.request('PUT', `${V3}/domains/${d.id}/config`, { token: admin, body: { config: { identity: { driver: 'ldap' } } } })).status, 201);

    assert.equal((await t.request('PATCH', `${V3}/domains/${d.id}`, { token: admin, body: { domain: { enabled: false } } })).status, 200);
    assert.equal((await t.request('DELETE', `${V3}/domains/${d.id}`, { token: admin })).status, 204);

    const count = async (table: 'identity_projects' | 'identity_users' | 'identity_groups' | 'identity_roles' | 'identity_domain_configs', column: 'domain_id' | 'id', value: string) =>
      (await db.selectFrom(table).select(db.fn.countAll<number>().as('n')).where(column, '=', value).executeTakeFirstOrThrow()).n;
    assert.equal(Number(await count('identity_projects', 'domain_id', d.id)), 0);
    assert.equal(Number(await count('identity_projects', 'id', d.id)), 0);
    assert.equal(Number(await count('identity_users', 'domain_id', d.id)), 0);
    assert.equal(Number(await count('identity_groups', 'domain_id', d.id)), 0);
    assert.equal(Number(await count('identity_roles', 'domain_id', d.id)), 0);
    assert.equal(Number(await count('identity_domain_configs', 'domain_id', d.id)), 0);
    const grants = await db.selectFrom('identity_assignments').selectAll().where((eb) => eb.or([eb('actor_id', 'in', ['u-casc', 'g-casc']), eb('role_id', '=', 'r-casc')])).execute();
    assert.deepEqual(grants, []);
    assert.equal((await t.request('GET', `${V3}/projects/${parent.json.project.id}`, { token: admin })).status, 404);
  });

  it('disabling a domain revokes the tokens of its users', async () => {
    const d = (await create({ name: 'tok-dom' })).json.domain;
    const db = t.cloud.identity.service.core.db;
    const project = (await t.request('POST', `${V3}/projects`, { token: admin, body: { project: { name: 'tp', domain_id: d.id } } })).json.project;
    const adminUser = await db.selectFrom('identity_users').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow();
    const adminRole = await db.selectFrom('identity_roles').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow();
    await t.cloud.identity.service.assignments.grant('UserProject', adminUser.id, project.id, adminRole.id);
    const scoped = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { id: project.id } });
    assert.equal(scoped.status, 201);
    assert.equal((await t.request('GET', `${V3}/domains/${d.id}`, { token: scoped.token })).status, 200);
    await t.request('PATCH', `${V3}/domains/${d.id}`, { token: admin, body: { domain: { enabled: false } } });
    const after = await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': scoped.token } });
    assert.equal(after.status, 404);
    // The revocation outlives the disabled state: re-enabling doesn't bring old tokens back.
    await t.request('PATCH', `${V3}/domains/${d.id}`, { token: admin, body: { domain: { enabled: true } } });
    const reenabled = await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': scoped.token } });
    assert.equal(reenabled.status, 404);
    assert.equal((await t.request('GET', `${V3}/domains/default`, { token: admin })).status, 200, 'other domains are untouched');
  });

  it('lets project members read their own domain but not list or change domains', async () => {
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    const own = await t.request('GET', `${V3}/domains/default`, { token: demo.token });
    assert.equal(own.status, 200);
    assert.equal(own.json.domain.enabled, true);
    assert.equal(own.json.domain.name, 'Default');
    const other = (await create({ name: 'private-dom' })).json.domain;
    assert.equal((await t.request('GET', `${V3}/domains/${other.id}`, { token: demo.token })).status, 403);
    assert.equal((await t.request('GET', `${V3}/domains`, { token: demo.token })).status, 403);
    const denied = await t.request('POST', `${V3}/domains`, { token: demo.token, body: { domain: { name: 'nope' } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.title, 'Forbidden');
    assert.equal((await t.request('GET', `${V3}/domains`)).status, 401);
  });

  it('shows a domain through the projects API as a project acting as a domain', async () => {
    const res = await t.request('POST', `${V3}/projects`, { token: admin, body: { project: { name: 'proj-dom', domain_id: null, is_domain: true } } });
    assert.equal(res.status, 201);
    const p = res.json.project;
    assert.equal(p.is_domain, true);
    assert.equal(p.domain_id, null);
    assert.equal(p.parent_id, null);
    const asDomain = await t.request('GET', `${V3}/domains/${p.id}`, { token: admin });
    assert.equal(asDomain.status, 200);
    const listed = await t.request('GET', `${V3}/projects?is_domain=true`, { token: admin });
    assert.ok(listed.json.projects.some((x: { id: string }) => x.id === p.id));
    const plain = await t.request('GET', `${V3}/projects`, { token: admin });
    assert.ok(!plain.json.projects.some((x: { id: string }) => x.id === p.id));
    assert.equal((await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await t.request('DELETE', `${V3}/projects/${p.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `${V3}/domains/${p.id}`, { token: admin })).status, 404);
    const withParent = await t.request('POST', `${V3}/projects`, { token: admin, body: { project: { name: 'bad-dom', is_domain: true, parent_id: 'default' } } });
    assert.equal(withParent.status, 400);
  });
});
