import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import type { IdentityService } from '../../../src/services/identity/service.js';

const PW = 'alice-password-1';

interface Fixture {
  userId: string;
  projectId: string;
  otherProjectId: string;
  extraRoleId: string;
  memberId: string;
  readerId: string;
}

/** alice: member + "extra" on project alpha, member on beta. */
async function seed(svc: IdentityService, suffix = ''): Promise<Fixture> {
  const user = await svc.users.createUser({ name: `alice${suffix}`, domainId: 'default', password: PW });
  const alpha = await svc.resource.createProject({ name: `alpha${suffix}`, domainId: 'default' });
  const beta = await svc.resource.createProject({ name: `beta${suffix}`, domainId: 'default' });
  const extra = await svc.roles.createRole({ name: `extra${suffix}` });
  const member = await svc.roles.findByName('member');
  const reader = await svc.roles.findByName('reader');
  assert.ok(member && reader);
  await svc.assignments.grant('UserProject', user.id, alpha.id, member.id);
  await svc.assignments.grant('UserProject', user.id, alpha.id, extra.id);
  await svc.assignments.grant('UserProject', user.id, beta.id, member.id);
  return { userId: user.id, projectId: alpha.id, otherProjectId: beta.id, extraRoleId: extra.id, memberId: member.id, readerId: reader.id };
}

function appCredAuth(body: Record<string, unknown>, scope?: unknown) {
  return { auth: { identity: { methods: ['application_credential'], application_credential: body }, ...(scope ? { scope } : {}) } };
}

describe('identity: application credentials', () => {
  let t: TestCloud;
  let f: Fixture;
  let token: string;
  const base = () => `/identity/v3/users/${f.userId}/application_credentials`;

  before(async () => {
    t = await startTestCloud();
    f = await seed(t.cloud.identity.service);
    const login = await t.login({ name: 'alice', password: PW }, { project: { id: f.projectId } });
    assert.equal(login.status, 201);
    token = login.token;
  });
  after(async () => {
    await t.close();
  });

  it('creates a credential, shows its secret once, and authenticates with it', async () => {
    const created = await t.request('POST', base(), { token, body: { application_credential: { name: 'ci', description: 'for CI' } } });
    assert.equal(created.status, 201);
    const cred = created.json.application_credential;
    assert.match(cred.id, /^[0-9a-f]{32}$/);
    assert.equal(cred.name, 'ci');
    assert.equal(cred.description, 'for CI');
    assert.equal(cred.project_id, f.projectId);
    assert.equal(cred.user_id, f.userId);
    assert.equal(cred.unrestricted, false);
    assert.equal(cred.expires_at, null);
    assert.equal(cred.system, null);
    assert.equal(cred.access_rules, undefined);
    // 64 random bytes, url-safe base64 without padding.
    assert.match(cred.secret, /^[A-Za-z0-9_-]{86}$/);
    assert.deepEqual(cred.roles.map((r: { name: string }) => r.name).sort(), ['extra', 'member', 'reader']);
    assert.ok(cred.links.self.endsWith(`/v3/users/${f.userId}/application_credentials/${cred.id}`));

    const shown = await t.request('GET', `${base()}/${cred.id}`, { token });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.application_credential.secret, undefined);
    assert.equal(shown.json.application_credential.name, 'ci');

    const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: cred.id, secret: cred.secret }) });
    assert.equal(auth.status, 201);
    const body = auth.json.token;
    assert.deepEqual(body.methods, ['application_credential']);
    assert.equal(body.project.id, f.projectId);
    assert.equal(body.user.id, f.userId);
    assert.deepEqual(body.application_credential, { id: cred.id, name: 'ci', restricted: true });
    assert.deepEqual(body.roles.map((r: { name: string }) => r.name).sort(), ['extra', 'member', 'reader']);

    const byName = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ name: 'ci', user: { name: 'alice', domain: { name: 'Default' } }, secret: cred.secret }) });
    assert.equal(byName.status, 201);
    const byUserId = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ name: 'ci', user: { id: f.userId }, secret: cred.secret }) });
    assert.equal(byUserId.status, 201);
    const wrong = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: cred.id, secret: 'nope' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 401);
    const noUser = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ name: 'ci', secret: cred.secret }) });
    assert.equal(noUser.status, 400);
  });

  it('lists, filters by name, refuses duplicates and deletes (revoking its tokens)', async () => {
    const a = await t.request('POST', base(), { token, body: { application_credential: { name: 'list-a', secret: 'chosen-secret' } } });
    assert.equal(a.status, 201);
    assert.equal(a.json.application_credential.secret, 'chosen-secret');
    const b = await t.request('POST', base(), { token, body: { application_credential: { name: 'list-b' } } });
    assert.equal(b.status, 201);
    const dup = await t.request('POST', base(), { token, body: { application_credential: { name: 'list-a' } } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.message, 'Conflict occurred attempting to store application_credential - Duplicate entry found with name list-a.');

    const all = await t.request('GET', base(), { token });
    assert.equal(all.status, 200);
    const names = all.json.application_credentials.map((c: { name: string }) => c.name);
    assert.ok(names.includes('list-a') && names.includes('list-b'));
    assert.ok(all.json.application_credentials.every((c: { secret?: string }) => c.secret === undefined));
    assert.equal(all.json.links.next, null);
    const one = await t.request('GET', `${base()}?name=list-b`, { token });
    assert.deepEqual(one.json.application_credentials.map((c: { name: string }) => c.name), ['list-b']);

    const credToken = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: a.json.application_credential.id, secret: 'chosen-secret' }) });
    const issued = String(credToken.headers['x-subject-token']);
    assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token: issued })).status, 200);
    const del = await t.request('DELETE', `${base()}/${a.json.application_credential.id}`, { token });
    assert.equal(del.status, 204);
    assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token: issued })).status, 401);
    assert.equal((await t.request('GET', `${base()}/${a.json.application_credential.id}`, { token })).status, 404);
    assert.equal((await t.request('DELETE', `${base()}/${a.json.application_credential.id}`, { token })).status, 404);
    const gone = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: a.json.application_credential.id, secret: 'chosen-secret' }) });
    assert.equal(gone.status, 404, 'Keystone reports a deleted credential as not found');
    assert.equal(gone.json.error.message, `Could not find Application Credential: ${a.json.application_credential.id}.`);
  });

  it('keeps expires_at as given and refuses past or malformed dates', async () => {
    // Half the token lifetime, so the credential's expiry is the earlier one.
    const when = new Date(Date.now() + 1800_000).toISOString().slice(0, 19) + '.123456';
    const res = await t.request('POST', base(), { token, body: { application_credential: { name: 'expiring', expires_at: when } } });
    assert.equal(res.status, 201);
    // Tempest compares with Python's isoformat(): microseconds kept, no zone suffix.
    assert.equal(res.json.application_credential.expires_at, when);
    const shown = await t.request('GET', `${base()}/${res.json.application_credential.id}`, { token });
    assert.equal(shown.json.application_credential.expires_at, when);
    const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: res.json.application_credential.id, secret: res.json.application_credential.secret }) });
    assert.equal(auth.status, 201);
    assert.equal(auth.json.token.expires_at, `${when.slice(0, 23)}000Z`, 'token lifetime is capped by the credential');

    const past = await t.request('POST', base(), { token, body: { application_credential: { name: 'past', expires_at: '2001-01-01T00:00:00Z' } } });
    assert.equal(past.status, 400);
    assert.match(past.json.error.message, /must not be before now/);
    const bad = await t.request('POST', base(), { token, body: { application_credential: { name: 'bad', expires_at: 'bad.123Z' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /Timestamp not in expected format/);
    const feb = await t.request('POST', base(), { token, body: { application_credential: { name: 'feb', expires_at: '2099-02-30T00:00:00' } } });
    assert.equal(feb.status, 400);
    assert.equal((await t.request('GET', `${base()}?name=past`, { token })).json.application_credentials.length, 0, 'rejected writes change nothing');
  });

  it('limits roles to those of the creating token', async () => {
    const byName = await t.request('POST', base(), { token, body: { application_credential: { name: 'only-extra', roles: [{ name: 'extra' }] } } });
    assert.equal(byName.status, 201);
    assert.deepEqual(byName.json.application_credential.roles.map((r: { id: string }) => r.id), [f.extraRoleId]);
    const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: byName.json.application_credential.id, secret: byName.json.application_credential.secret }) });
    assert.equal(auth.status, 201);
    assert.deepEqual(auth.json.token.roles, [{ id: f.extraRoleId, name: 'extra' }]);

    const admin = await t.cloud.identity.service.roles.findByName('admin');
    const notHeld = await t.request('POST', base(), { token, body: { application_credential: { name: 'escalate', roles: [{ id: admin?.id }] } } });
    assert.equal(notHeld.status, 400);
    assert.equal(notHeld.json.error.message, 'Invalid application credential: Cannot create an application credential with unassigned role');
    const unknown = await t.request('POST', base(), { token, body: { application_credential: { name: 'unknown', roles: [{ name: 'no-such-role' }] } } });
    assert.equal(unknown.status, 404);
    const both = await t.request('POST', base(), { token, body: { application_credential: { name: 'both', roles: [{ id: f.extraRoleId, name: 'extra' }] } } });
    assert.equal(both.status, 400);
  });

  it('intersects the credential roles with what the user still holds', async () => {
    const res = await t.request('POST', base(), { token, body: { application_credential: { name: 'shrinking', roles: [{ name: 'extra' }, { name: 'member' }] } } });
    assert.equal(res.status, 201);
    const svc = t.cloud.identity.service;
    // Remove the grant underneath (no API event): validation must not hand out the lost role.
    await svc.core.db.deleteFrom('identity_assignments').where('actor_id', '=', f.userId).where('role_id', '=', f.extraRoleId).execute();
    svc.core.onRevocation();
    try {
      const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: res.json.application_credential.id, secret: res.json.application_credential.secret }) });
      assert.equal(auth.status, 201);
      assert.deepEqual(auth.json.token.roles.map((r: { name: string }) => r.name), ['member']);
    } finally {
      await svc.assignments.grant('UserProject', f.userId, f.projectId, f.extraRoleId);
    }
  });

  it('is only for the user themselves, with a project-scoped token', async () => {
    const admin = await t.adminToken();
    const forOther = await t.request('POST', base(), { token: admin, body: { application_credential: { name: 'by-admin' } } });
    assert.equal(forOther.status, 403);
    const unscoped = await t.login({ name: 'alice', password: PW }, 'unscoped');
    const res = await t.request('POST', base(), { token: unscoped.token, body: { application_credential: { name: 'unscoped' } } });
    assert.equal(res.status, 400);
    const missingName = await t.request('POST', base(), { token, body: { application_credential: { description: 'x' } } });
    assert.equal(missingName.status, 400);
    const demo = await t.login({ name: 'demo', password: 'secret-admin-pw' }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal((await t.request('GET', base(), { token: demo.token })).status, 403);
    const mine = await t.request('POST', base(), { token, body: { application_credential: { name: 'private' } } });
    assert.equal((await t.request('GET', `${base()}/${mine.json.application_credential.id}`, { token: demo.token })).status, 403);
    // The owner is the credential's, not the path's: naming yourself in the path doesn't help.
    const demoId = demo.json.token.user.id;
    const sneaky = await t.request('GET', `/identity/v3/users/${demoId}/application_credentials/${mine.json.application_credential.id}`, { token: demo.token });
    assert.equal(sneaky.status, 403);
    assert.equal((await t.request('GET', `${base()}/${mine.json.application_credential.id}`, { token: admin })).status, 200);
  });

  it('restricts what a credential token may do', async () => {
    const restricted = await t.request('POST', base(), { token, body: { application_credential: { name: 'restricted' } } });
    const rt = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: restricted.json.application_credential.id, secret: restricted.json.application_credential.secret }) });
    const rToken = String(rt.headers['x-subject-token']);
    const nested = await t.request('POST', base(), { token: rToken, body: { application_credential: { name: 'nested' } } });
    assert.equal(nested.status, 403);
    assert.match(nested.json.error.message, /Using method 'application_credential' is not allowed/);
    assert.equal((await t.request('DELETE', `${base()}/${restricted.json.application_credential.id}`, { token: rToken })).status, 403);
    assert.equal((await t.request('GET', base(), { token: rToken })).status, 200, 'reading is allowed');
    const trust = await t.request('POST', '/identity/v3/OS-TRUST/trusts', {
      token: rToken,
      body: { trust: { trustor_user_id: f.userId, trustee_user_id: f.userId, impersonation: false, project_id: f.projectId, roles: [{ name: 'member' }] } },
    });
    assert.equal(trust.status, 403);
    const rescope = await t.request('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: rToken } }, scope: { project: { id: f.otherProjectId } } } } });
    assert.equal(rescope.status, 403);
    const otherScope = await t.request('POST', '/identity/v3/auth/tokens', {
      body: appCredAuth({ id: restricted.json.application_credential.id, secret: restricted.json.application_credential.secret }, { project: { id: f.otherProjectId } }),
    });
    assert.equal(otherScope.status, 401);

    const unrestricted = await t.request('POST', base(), { token, body: { application_credential: { name: 'unrestricted', unrestricted: true } } });
    assert.equal(unrestricted.json.application_credential.unrestricted, true);
    const ut = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: unrestricted.json.application_credential.id, secret: unrestricted.json.application_credential.secret }) });
    assert.equal(ut.json.token.application_credential.restricted, false);
    const allowed = await t.request('POST', base(), { token: String(ut.headers['x-subject-token']), body: { application_credential: { name: 'from-unrestricted' } } });
    assert.equal(allowed.status, 201);
  });

  it('manages access rules', async () => {
    const rule = { path: '/v2.1/servers/*/ips', method: 'GET', service: 'compute' };
    const res = await t.request('POST', base(), { token, body: { application_credential: { name: 'ruled', access_rules: [rule] } } });
    assert.equal(res.status, 201);
    const created = res.json.application_credential.access_rules;
    assert.equal(created.length, 1);
    const { id: ruleId, ...rest } = created[0];
    assert.deepEqual(rest, rule);
    assert.match(ruleId, /^[0-9a-f]{32}$/);

    const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: res.json.application_credential.id, secret: res.json.application_credential.secret }) });
    assert.deepEqual(auth.json.token.application_credential.access_rules, [{ id: ruleId, ...rule }]);

    // An identical rule and a rule given by id are reused, not duplicated.
    const same = await t.request('POST', base(), { token, body: { application_credential: { name: 'ruled-2', access_rules: [rule, { id: ruleId }] } } });
    assert.equal(same.status, 201);
    assert.deepEqual(same.json.application_credential.access_rules.map((r: { id: string }) => r.id), [ruleId]);
    const missing = await t.request('POST', base(), { token, body: { application_credential: { name: 'ruled-3', access_rules: [{ id: 'feedface' }] } } });
    assert.equal(missing.status, 404);
    const badMethod = await t.request('POST', base(), { token, body: { application_credential: { name: 'ruled-4', access_rules: [{ ...rule, method: 'FETCH' }] } } });
    assert.equal(badMethod.status, 400);

    const rules = `/identity/v3/users/${f.userId}/access_rules`;
    const list = await t.request('GET', rules, { token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.access_rules.map((r: { id: string }) => r.id), [ruleId]);
    assert.equal((await t.request('GET', `${rules}?service=image`, { token })).json.access_rules.length, 0);
    const shown = await t.request('GET', `${rules}/${ruleId}`, { token });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.access_rule.path, rule.path);
    assert.ok(shown.json.access_rule.links.self.endsWith(`/access_rules/${ruleId}`));

    const inUse = await t.request('DELETE', `${rules}/${ruleId}`, { token });
    assert.equal(inUse.status, 403);
    assert.equal(inUse.json.error.message, 'May not delete access rule in use');
    await t.request('DELETE', `${base()}/${res.json.application_credential.id}`, { token });
    await t.request('DELETE', `${base()}/${same.json.application_credential.id}`, { token });
    assert.equal((await t.request('GET', rules, { token })).json.access_rules.length, 1, 'rules outlive their credentials');
    assert.equal((await t.request('DELETE', `${rules}/${ruleId}`, { token })).status, 204);
    assert.equal((await t.request('GET', rules, { token })).json.access_rules.length, 0);
    assert.equal((await t.request('GET', `${rules}/${ruleId}`, { token })).status, 404);
  });

  it('drops credentials when a project role is revoked or the user disabled', async () => {
    const svc = t.cloud.identity.service;
    const g = await seed(svc, '-2');
    const login = await t.login({ name: 'alice-2', password: PW }, { project: { id: g.projectId } });
    const url = `/identity/v3/users/${g.userId}/application_credentials`;
    const res = await t.request('POST', url, { token: login.token, body: { application_credential: { name: 'doomed' } } });
    assert.equal(res.status, 201);
    await svc.assignments.revokeGrant({ actor: { kind: 'user', id: g.userId }, target: { kind: 'project', id: g.projectId }, roleId: g.extraRoleId, inherited: false });
    await waitFor(async () => (await svc.appCreds.list(g.userId)).length === 0);

    const other = await t.login({ name: 'alice-2', password: PW }, { project: { id: g.otherProjectId } });
    const kept = await t.request('POST', url, { token: other.token, body: { application_credential: { name: 'kept-until-disabled', access_rules: [{ service: 'image', path: '/v2/images', method: 'GET' }] } } });
    assert.equal(kept.status, 201);
    await svc.users.update(g.userId, { enabled: false });
    await waitFor(async () => (await svc.appCreds.list(g.userId)).length === 0 && (await svc.appCreds.listAccessRules(g.userId)).length === 0);
  });
});

describe('identity: application credential expiry', () => {
  it('refuses an expired credential and invalidates its tokens', async () => {
    const clock = new ManualClock(new Date());
    const t = await startTestCloud({ clock });
    try {
      const f = await seed(t.cloud.identity.service);
      const login = await t.login({ name: 'alice', password: PW }, { project: { id: f.projectId } });
      const when = new Date(clock.now().getTime() + 600_000).toISOString();
      const res = await t.request('POST', `/identity/v3/users/${f.userId}/application_credentials`, { token: login.token, body: { application_credential: { name: 'short', expires_at: when } } });
      assert.equal(res.status, 201);
      const auth = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: res.json.application_credential.id, secret: res.json.application_credential.secret }) });
      assert.equal(auth.status, 201);
      const issued = String(auth.headers['x-subject-token']);
      clock.advance(601_000);
      const again = await t.request('POST', '/identity/v3/auth/tokens', { body: appCredAuth({ id: res.json.application_credential.id, secret: res.json.application_credential.secret }) });
      assert.equal(again.status, 401);
      const admin = await t.adminToken();
      assert.equal((await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': issued } })).status, 404);
    } finally {
      await t.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
