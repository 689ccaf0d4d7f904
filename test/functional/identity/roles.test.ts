import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: roles and implied roles', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let otherDomain: string;

  const req = (method: string, path: string, body?: unknown, token: string | null = admin) => t.request(method, `${V3}${path}`, { token, body });
  const createRole = async (role: Record<string, unknown>) => {
    const res = await req('POST', '/roles', { role });
    assert.equal(res.status, 201, res.text);
    return res.json.role as Record<string, any>;
  };

  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    otherDomain = (await t.cloud.identity.service.resource.createProject({ name: 'roles-dom', domainId: 'default', isDomain: true })).id;
  });
  after(async () => {
    await t.close();
  });

  it('creates a role with Keystone fields and keeps extra attributes', async () => {
    const res = await req('POST', '/roles', { role: { name: 'observer', description: 'looks', color: 'blue', id: 'ignored', links: { self: 'x' } } });
    assert.equal(res.status, 201);
    const role = res.json.role;
    assert.match(role.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(role, {
      id: role.id,
      name: 'observer',
      domain_id: null,
      description: 'looks',
      options: {},
      color: 'blue',
      links: { self: `http://localhost:80/identity/v3/roles/${role.id}` },
    });
    const shown = await req('GET', `/roles/${role.id}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json.role, role);
    const listed = await req('GET', '/roles');
    assert.deepEqual(
      listed.json.roles.find((r: { id: string }) => r.id === role.id),
      role,
      'list entries equal the created body (Tempest compares them)',
    );
  });

  it('validates role bodies (400) and refuses duplicates (409)', async () => {
    for (const role of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(256) }, { name: 3 }, { name: 'ok', options: { bogus: true } }, { name: 'ok', options: { immutable: 'yes' } }, { name: 'ok', description: 5 }]) {
      const res = await req('POST', '/roles', { role });
      assert.equal(res.status, 400, JSON.stringify(role));
      assert.equal(res.json.error.code, 400);
      assert.equal(res.json.error.title, 'Bad Request');
    }
    assert.equal((await req('POST', '/roles', { name: 'no-envelope' })).status, 400);
    await createRole({ name: 'dup-role' });
    const dup = await req('POST', '/roles', { role: { name: 'dup-role' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.message, 'Conflict occurred attempting to store role - Duplicate entry found with name dup-role.');
    const max = await req('POST', '/roles', { role: { name: 'y'.repeat(255) } });
    assert.equal(max.status, 201);
  });

  it('lists global roles by default and domain roles with domain_id', async () => {
    const global = await createRole({ name: 'shared-name' });
    const scoped = await createRole({ name: 'shared-name', domain_id: otherDomain });
    assert.equal(scoped.domain_id, otherDomain);
    const all = await req('GET', '/roles');
    assert.equal(all.status, 200);
    assert.ok(all.json.roles.some((r: { id: string }) => r.id === global.id));
    assert.ok(!all.json.roles.some((r: { id: string }) => r.id === scoped.id), 'domain roles are not listed without domain_id');
    assert.ok(all.json.roles.every((r: { domain_id: unknown }) => r.domain_id === null));
    assert.deepEqual(all.json.links, { self: 'http://localhost:80/identity/v3/roles', previous: null, next: null });
    const inDomain = await req('GET', `/roles?domain_id=${otherDomain}`);
    assert.deepEqual(inDomain.json.roles, [scoped]);
    const byName = await req('GET', '/roles?name=shared-name');
    assert.deepEqual(byName.json.roles.map((r: { id: string }) => r.id), [global.id]);
    const contains = await req('GET', '/roles?name__icontains=SHARED-N');
    assert.deepEqual(contains.json.roles.map((r: { id: string }) => r.id), [global.id]);
    const none = await req('GET', '/roles?name=nope');
    assert.deepEqual(none.json.roles, []);
    const badDomain = await req('POST', '/roles', { role: { name: 'x', domain_id: 'no-such-domain' } });
    assert.equal(badDomain.status, 404);
  });

  it('updates a role (PATCH) and refuses bad updates', async () => {
    const role = await createRole({ name: 'patch-me' });
    const res = await req('PATCH', `/roles/${role.id}`, { role: { name: 'patched', description: 'd', extra_field: 1 } });
    assert.equal(res.status, 200);
    assert.equal(res.json.role.name, 'patched');
    assert.equal(res.json.role.description, 'd');
    assert.equal(res.json.role.extra_field, 1);
    assert.equal(res.json.role.links.self, `http://localhost:80/identity/v3/roles/${role.id}`);
    assert.equal((await req('GET', `/roles/${role.id}`)).json.role.name, 'patched');
    assert.equal((await req('PATCH', `/roles/${role.id}`, { role: {} })).status, 400);
    assert.equal((await req('PATCH', `/roles/${role.id}`, { role: { name: '' } })).status, 400);
    const moveDomain = await req('PATCH', `/roles/${role.id}`, { role: { domain_id: otherDomain } });
    assert.equal(moveDomain.status, 400);
    assert.equal(moveDomain.json.error.message, 'Update of `domain_id` is not allowed.');
    assert.equal((await req('PATCH', `/roles/${role.id}`, { role: { id: 'other' } })).status, 400);
    await createRole({ name: 'taken' });
    assert.equal((await req('PATCH', `/roles/${role.id}`, { role: { name: 'taken' } })).status, 409);
    assert.equal((await req('PATCH', '/roles/missing', { role: { name: 'z' } })).status, 404);
    assert.equal((await req('GET', `/roles/${role.id}`)).json.role.name, 'patched', 'rejected writes change nothing');
  });

  it('protects immutable roles (403) until the option is cleared', async () => {
    const role = await createRole({ name: 'frozen', options: { immutable: true } });
    assert.deepEqual(role.options, { immutable: true });
    const rename = await req('PATCH', `/roles/${role.id}`, { role: { name: 'thawed' } });
    assert.equal(rename.status, 403);
    assert.match(rename.json.error.message, /^Unable to update immutable role resource/);
    const mixed = await req('PATCH', `/roles/${role.id}`, { role: { name: 'thawed', options: { immutable: false } } });
    assert.equal(mixed.status, 403, 'clearing the flag must be the only change');
    const del = await req('DELETE', `/roles/${role.id}`);
    assert.equal(del.status, 403);
    assert.match(del.json.error.message, /^Unable to delete immutable role resource/);
    const clear = await req('PATCH', `/roles/${role.id}`, { role: { options: { immutable: false } } });
    assert.equal(clear.status, 200);
    assert.deepEqual(clear.json.role.options, { immutable: false });
    const drop = await req('PATCH', `/roles/${role.id}`, { role: { options: { immutable: null } } });
    assert.deepEqual(drop.json.role.options, {});
    assert.equal((await req('DELETE', `/roles/${role.id}`)).status, 204);
  });

  it('deletes a role with its assignments and inference rules', async () => {
    const svc = t.cloud.identity.service;
    const role = await createRole({ name: 'doomed' });
    const implied = await createRole({ name: 'doomed-implied' });
    assert.equal((await req('PUT', `/roles/${role.id}/implies/${implied.id}`)).status, 201);
    const demoUser = await svc.users.findByName('demo', 'default');
    const demoProject = await svc.resource.findProjectByName('demo', 'default');
    assert.ok(demoUser && demoProject);
    assert.equal((await req('PUT', `/projects/${demoProject.id}/users/${demoUser.id}/roles/${role.id}`)).status, 204);
    assert.equal((await req('DELETE', `/roles/${role.id}`)).status, 204);
    assert.equal((await req('GET', `/roles/${role.id}`)).status, 404);
    assert.equal((await req('DELETE', `/roles/${role.id}`)).status, 404);
    const left = await req('GET', `/role_assignments?role.id=${role.id}`);
    assert.deepEqual(left.json.role_assignments, []);
    const rules = await req('GET', '/role_inferences');
    assert.ok(!rules.json.role_inferences.some((r: { prior_role: { id: string } }) => r.prior_role.id === role.id));
    assert.equal((await req('GET', `/roles/${implied.id}`)).status, 200, 'the implied role itself survives');
  });

  it('creates, shows, checks, lists and deletes inference rules', async () => {
    const prior = await createRole({ name: 'prior' });
    const a = await createRole({ name: 'implied-a' });
    const b = await createRole({ name: 'implied-b' });
    const put = await req('PUT', `/roles/${prior.id}/implies/${a.id}`);
    assert.equal(put.status, 201);
    const self = (id: string) => ({ self: `http://localhost:80/identity/v3/roles/${id}` });
    assert.deepEqual(put.json, {
      role_inference: { prior_role: { id: prior.id, name: 'prior', links: self(prior.id) }, implies: { id: a.id, name: 'implied-a', links: self(a.id) } },
      links: { self: `http://localhost:80/identity/v3/roles/${prior.id}/implies/${a.id}` },
    });
    assert.equal((await req('PUT', `/roles/${prior.id}/implies/${a.id}`)).status, 409);
    assert.equal((await req('PUT', `/roles/${prior.id}/implies/${b.id}`)).status, 201);
    const show = await req('GET', `/roles/${prior.id}/implies/${a.id}`);
    assert.equal(show.status, 200);
    assert.deepEqual(show.json, put.json);
    const head = await req('HEAD', `/roles/${prior.id}/implies/${a.id}`);
    assert.equal(head.status, 204);
    const list = await req('GET', `/roles/${prior.id}/implies`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.role_inference.prior_role.id, prior.id);
    assert.deepEqual(list.json.role_inference.implies.map((r: { id: string }) => r.id), [a.id, b.id]);
    assert.equal(list.json.links.self, `http://localhost:80/identity/v3/roles/${prior.id}/implies`);
    const all = await req('GET', '/role_inferences');
    assert.equal(all.status, 200);
    const mine = all.json.role_inferences.find((r: { prior_role: { id: string } }) => r.prior_role.id === prior.id);
    assert.deepEqual(mine.implies.map((r: { id: string }) => r.id), [a.id, b.id]);
    assert.ok(all.json.role_inferences.some((r: { prior_role: { name: string } }) => r.prior_role.name === 'admin'), 'bootstrap rules are listed');
    assert.equal((await req('DELETE', `/roles/${prior.id}/implies/${a.id}`)).status, 204);
    const gone = await req('GET', `/roles/${prior.id}/implies/${a.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.message, `${prior.id} does not imply ${a.id}.`);
    assert.equal((await req('HEAD', `/roles/${prior.id}/implies/${a.id}`)).status, 404);
    assert.equal((await req('DELETE', `/roles/${prior.id}/implies/${a.id}`)).status, 404);
    assert.equal((await req('PUT', `/roles/${prior.id}/implies/missing`)).status, 404);
    assert.equal((await req('GET', '/roles/missing/implies')).status, 404);
  });

  it('applies Keystone rules to implications: domain roles and prohibited roles', async () => {
    const global = await createRole({ name: 'g-role' });
    const d1 = await createRole({ name: 'd-role-1', domain_id: otherDomain });
    const d2 = await createRole({ name: 'd-role-2', domain_id: otherDomain });
    assert.equal((await req('PUT', `/roles/${d1.id}/implies/${d2.id}`)).status, 201);
    assert.equal((await req('PUT', `/roles/${d1.id}/implies/${global.id}`)).status, 201);
    const down = await req('PUT', `/roles/${global.id}/implies/${d1.id}`);
    assert.equal(down.status, 403);
    assert.equal(down.json.error.message, 'Global role cannot imply a domain-specific role');
    const adminRole = await t.cloud.identity.service.roles.findByName('admin');
    assert.ok(adminRole);
    const prohibited = await req('PUT', `/roles/${global.id}/implies/${adminRole.id}`);
    assert.equal(prohibited.status, 403);
    assert.equal(prohibited.json.error.message, `${adminRole.id} cannot be an implied roles.`);
    // Cycles are allowed (as in Keystone) and expansion still terminates.
    assert.equal((await req('PUT', `/roles/${global.id}/implies/${global.id}`)).status, 201);
  });

  it('puts only global roles in tokens: a domain role contributes what it implies', async () => {
    const svc = t.cloud.identity.service;
    const user = await svc.users.createUser({ name: 'dr-user', domainId: otherDomain, password: 'pw-dr-user' });
    const project = await svc.resource.createProject({ name: 'dr-project', domainId: otherDomain });
    const domainRole = await createRole({ name: 'dr-role', domain_id: otherDomain });
    const target = await createRole({ name: 'dr-target' });
    assert.equal((await req('PUT', `/roles/${domainRole.id}/implies/${target.id}`)).status, 201);
    assert.equal((await req('PUT', `/projects/${project.id}/users/${user.id}/roles/${domainRole.id}`)).status, 204);
    const login = await t.login({ name: 'dr-user', password: 'pw-dr-user', domain: otherDomain }, { project: { id: project.id } });
    assert.equal(login.status, 201, login.text);
    assert.deepEqual(login.json.token.roles.map((r: { name: string }) => r.name), ['dr-target']);

    // A domain role implying nothing gives no token role, so its project isn't offered as a scope.
    const bare = await createRole({ name: 'dr-bare', domain_id: otherDomain });
    const lonely = await svc.resource.createProject({ name: 'dr-lonely', domainId: otherDomain });
    assert.equal((await req('PUT', `/projects/${lonely.id}/users/${user.id}/roles/${bare.id}`)).status, 204);
    const unscoped = await t.login({ name: 'dr-user', password: 'pw-dr-user', domain: otherDomain });
    const projects = await t.request('GET', `${V3}/auth/projects`, { token: unscoped.token });
    assert.deepEqual(projects.json.projects.map((p: { id: string }) => p.id), [project.id]);
    const scoped = await t.login({ name: 'dr-user', password: 'pw-dr-user', domain: otherDomain }, { project: { id: lonely.id } });
    assert.equal(scoped.status, 401);
  });

  it('enforces policy: 401 without a token, 403 for non-admins', async () => {
    assert.equal((await req('GET', '/roles', undefined, null)).status, 401);
    assert.equal((await req('POST', '/roles', { role: { name: 'x-unauth' } }, null)).status, 401);
    const list = await req('GET', '/roles', undefined, demo);
    assert.equal(list.status, 403);
    assert.equal(list.json.error.message, 'You are not authorized to perform the requested action: identity:list_roles.');
    assert.equal((await req('POST', '/roles', { role: { name: 'x-demo' } }, demo)).status, 403);
    assert.equal((await req('GET', '/roles/does-not-exist', undefined, demo)).status, 403, 'existence is not leaked');
    assert.equal((await req('GET', '/role_inferences', undefined, demo)).status, 403);
    assert.equal((await req('GET', '/roles?name=x-demo')).json.roles.length, 0, 'nothing was created');
  });

  it('lets a system reader read roles and assignments but not change them', async () => {
    const svc = t.cloud.identity.service;
    const user = await svc.users.createUser({ name: 'sys-reader', domainId: 'default', password: 'pw-sys-reader' });
    const reader = await svc.roles.findByName('reader');
    assert.ok(reader);
    assert.equal((await req('PUT', `/system/users/${user.id}/roles/${reader.id}`)).status, 204);
    const login = await t.login({ name: 'sys-reader', password: 'pw-sys-reader' }, { system: { all: true } });
    assert.equal(login.status, 201, login.text);
    const token = login.token;
    assert.equal((await req('GET', '/roles', undefined, token)).status, 200);
    assert.equal((await req('GET', `/roles/${reader.id}`, undefined, token)).status, 200);
    assert.equal((await req('GET', '/role_inferences', undefined, token)).status, 200);
    assert.equal((await req('GET', `/role_assignments?user.id=${user.id}`, undefined, token)).status, 200);
    assert.equal((await req('HEAD', `/system/users/${user.id}/roles/${reader.id}`, undefined, token)).status, 204);
    assert.equal((await req('POST', '/roles', { role: { name: 'sys-reader-made' } }, token)).status, 403);
    assert.equal((await req('DELETE', `/system/users/${user.id}/roles/${reader.id}`, undefined, token)).status, 403);
    const other = await createRole({ name: 'sys-reader-target' });
    assert.equal((await req('PUT', `/roles/${other.id}/implies/${reader.id}`, undefined, token)).status, 403);
  });
});
