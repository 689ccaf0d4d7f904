import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

describe('identity: tokens', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t.close();
  });

  it('issues a project-scoped token with catalog and roles', async () => {
    const res = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { name: 'Default' } } });
    assert.equal(res.status, 201);
    assert.ok(res.token.length > 100 && res.token.length < 255);
    const token = res.json.token;
    assert.deepEqual(token.methods, ['password']);
    assert.equal(token.project.name, 'admin');
    assert.equal(token.project.domain.id, 'default');
    assert.equal(token.user.name, 'admin');
    assert.deepEqual(token.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader']);
    assert.ok(token.catalog.some((s: { type: string }) => s.type === 'identity'));
    assert.match(token.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(token.audit_ids.length, 1);
    assert.ok(res.headers['x-openstack-request-id']);
  });

  it('rejects a wrong password with 401 and a Keystone fault body', async () => {
    const res = await t.login({ name: 'admin', password: 'nope' });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 401);
    assert.equal(res.json.error.title, 'Unauthorized');
    const unknown = await t.login({ name: 'nobody', password: 'nope' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.error.message, res.json.error.message, 'must not reveal which part was wrong');
  });

  it('validates, checks and revokes tokens', async () => {
    const admin = await t.adminToken();
    const user = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal(user.status, 201);
    const get = await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': user.token } });
    assert.equal(get.status, 200);
    assert.equal(get.json.token.user.name, 'demo');
    assert.equal(get.headers['x-subject-token'], user.token);
    const head = await t.request('HEAD', '/identity/v3/auth/tokens', { token: user.token, headers: { 'x-subject-token': user.token } });
    assert.equal(head.status, 200);
    const del = await t.request('DELETE', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': user.token } });
    assert.equal(del.status, 204);
    const again = await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': user.token } });
    assert.equal(again.status, 404);
    const useRevoked = await t.request('GET', '/identity/v3/auth/catalog', { token: user.token });
    assert.equal(useRevoked.status, 401);
  });

  it('rescopes an unscoped token and issues domain and system scoped tokens', async () => {
    const unscoped = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, 'unscoped');
    assert.equal(unscoped.status, 201);
    assert.equal(unscoped.json.token.project, undefined);
    const rescoped = await t.request('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: unscoped.token } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } },
    });
    assert.equal(rescoped.status, 201);
    assert.equal(rescoped.json.token.project.name, 'demo');
    assert.equal(rescoped.json.token.audit_ids.length, 2);
    assert.deepEqual([...rescoped.json.token.methods].sort(), ['password', 'token']);
    assert.equal(rescoped.json.token.expires_at, unscoped.json.token.expires_at);
    const domain = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { domain: { id: 'default' } });
    assert.equal(domain.status, 201);
    assert.equal(domain.json.token.domain.id, 'default');
    const system = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { system: { all: true } });
    assert.equal(system.status, 201);
    assert.deepEqual(system.json.token.system, { all: true });
    const noAccess = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
    assert.equal(noAccess.status, 401);
  });

  it('lists the projects, domains and system scope available to the caller', async () => {
    const admin = await t.adminToken();
    const projects = await t.request('GET', '/identity/v3/auth/projects', { token: admin });
    assert.equal(projects.status, 200);
    assert.deepEqual(projects.json.projects.map((p: { name: string }) => p.name), ['admin']);
    const domains = await t.request('GET', '/identity/v3/auth/domains', { token: admin });
    assert.deepEqual(domains.json.domains.map((d: { id: string }) => d.id), ['default']);
    const system = await t.request('GET', '/identity/v3/auth/system', { token: admin });
    assert.deepEqual(system.json.system, [{ all: true }]);
    const catalog = await t.request('GET', '/identity/v3/auth/catalog', { token: admin });
    assert.equal(catalog.status, 200);
    assert.ok(Array.isArray(catalog.json.catalog));
  });

  it('rejects malformed bodies with 400', async () => {
    const bad = await t.request('POST', '/identity/v3/auth/tokens', { rawBody: '{"auth": ' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 400);
    const wrongType = await t.request('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: 'password' } } } });
    assert.equal(wrongType.status, 400);
  });

  it('serves version discovery', async () => {
    const root = await t.request('GET', '/identity');
    assert.equal(root.status, 300);
    assert.equal(root.json.versions.values[0].id, 'v3.14');
    const v3 = await t.request('GET', '/identity/v3');
    assert.equal(v3.status, 200);
    assert.equal(v3.json.version.status, 'stable');
  });
});
