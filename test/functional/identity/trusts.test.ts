import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import type { IdentityService } from '../../../src/services/identity/service.js';

const PW = 'trust-test-password';
const TRUSTS = '/identity/v3/OS-TRUST/trusts';

interface Fixture {
  trustorId: string;
  trusteeId: string;
  thirdId: string;
  projectId: string;
  delegatedRole: { id: string; name: string };
  keptRole: { id: string; name: string };
}

/** alice (trustor) holds "delegated" and "kept" on project p; bob is the trustee, carol a third user. */
async function seed(svc: IdentityService, suffix: string): Promise<Fixture> {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => svc.users.createUser({ name: `${n}${suffix}`, domainId: 'default', password: PW })));
  const project = await svc.resource.createProject({ name: `p${suffix}`, domainId: 'default' });
  const delegated = await svc.roles.createRole({ name: `delegated${suffix}` });
  const kept = await svc.roles.createRole({ name: `kept${suffix}` });
  await svc.assignments.grant('UserProject', alice.id, project.id, delegated.id);
  await svc.assignments.grant('UserProject', alice.id, project.id, kept.id);
  return {
    trustorId: alice.id,
    trusteeId: bob.id,
    thirdId: carol.id,
    projectId: project.id,
    delegatedRole: { id: delegated.id, name: delegated.name },
    keptRole: { id: kept.id, name: kept.name },
  };
}

describe('identity: trusts', () => {
  let t: TestCloud;
  let n = 0;
  const setup = async () => {
    n += 1;
    const f = await seed(t.cloud.identity.service, `-${n}`);
    const trustor = await t.login({ name: `alice-${n}`, password: PW }, { project: { id: f.projectId } });
    const trustee = await t.login({ name: `bob-${n}`, password: PW }, 'unscoped');
    assert.equal(trustor.status, 201);
    assert.equal(trustee.status, 201);
    return { f, trustorToken: trustor.token, trusteeToken: trustee.token, suffix: `-${n}` };
  };
  const trustBody = (f: Fixture, extra: Record<string, unknown> = {}) => ({
    trust: { trustor_user_id: f.trustorId, trustee_user_id: f.trusteeId, project_id: f.projectId, impersonation: true, roles: [{ name: f.delegatedRole.name }], ...extra },
  });
  const trustAuth = (token: string, trustId: string) => ({ auth: { identity: { methods: ['token'], token: { id: token } }, scope: { 'OS-TRUST:trust': { id: trustId } } } });

  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t.close();
  });

  it('creates, shows and deletes a trust with its roles', async () => {
    const { f, trustorToken } = await setup();
    const res = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { expires_at: null, color: 'blue' }) });
    assert.equal(res.status, 201);
    const trust = res.json.trust;
    assert.match(trust.id, /^[0-9a-f]{32}$/);
    assert.equal(trust.trustor_user_id, f.trustorId);
    assert.equal(trust.trustee_user_id, f.trusteeId);
    assert.equal(trust.project_id, f.projectId);
    assert.equal(trust.impersonation, true);
    assert.equal(trust.expires_at, null);
    assert.equal(trust.remaining_uses, null);
    assert.equal(trust.redelegation_count, 0);
    assert.equal(trust.redelegated_trust_id, null);
    assert.equal(trust.color, 'blue', 'unknown attributes are kept');
    assert.ok(trust.links.self.endsWith(`/v3/OS-TRUST/trusts/${trust.id}`));
    assert.ok(trust.roles_links.self.endsWith(`/v3/OS-TRUST/trusts/${trust.id}/roles`));
    assert.equal(trust.roles.length, 1);
    assert.equal(trust.roles[0].id, f.delegatedRole.id);
    assert.equal(trust.roles[0].name, f.delegatedRole.name);
    assert.ok(trust.roles[0].links.self.endsWith(`/v3/roles/${f.delegatedRole.id}`));

    const shown = await t.request('GET', `${TRUSTS}/${trust.id}`, { token: trustorToken });
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json.trust, trust);

    const roles = await t.request('GET', `${TRUSTS}/${trust.id}/roles`, { token: trustorToken });
    assert.equal(roles.status, 200);
    assert.deepEqual(roles.json.roles.map((r: { id: string }) => r.id), [f.delegatedRole.id]);
    const role = await t.request('GET', `${TRUSTS}/${trust.id}/roles/${f.delegatedRole.id}`, { token: trustorToken });
    assert.equal(role.status, 200);
    assert.equal(role.json.role.name, f.delegatedRole.name);
    const head = await t.request('HEAD', `${TRUSTS}/${trust.id}/roles/${f.delegatedRole.id}`, { token: trustorToken });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}/roles/${f.keptRole.id}`, { token: trustorToken })).status, 404);
    assert.equal((await t.request('HEAD', `${TRUSTS}/${trust.id}/roles/${f.keptRole.id}`, { token: trustorToken })).status, 404);

    const outsider = await t.login({ name: `carol-${n}`, password: PW }, 'unscoped');
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`, { token: outsider.token })).status, 403);
    assert.equal((await t.request('DELETE', `${TRUSTS}/${trust.id}`, { token: outsider.token })).status, 403);

    assert.equal((await t.request('DELETE', `${TRUSTS}/${trust.id}`, { token: trustorToken })).status, 204);
    const gone = await t.request('GET', `${TRUSTS}/${trust.id}`, { token: trustorToken });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.message, `Could not find trust: ${trust.id}.`);
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`)).status, 401);
  });

  it('revoking the trustee reaches impersonating trust tokens issued as the trustor', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const created = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f) });
    assert.equal(created.status, 201);
    const scoped = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, created.json.trust.id) });
    assert.equal(scoped.status, 201);
    assert.equal(scoped.json.token.user.id, f.trustorId, 'impersonation issues the token as the trustor');
    const trustToken = String(scoped.headers['x-subject-token']);
    const admin = await t.adminToken();
    const check = () => t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': trustToken } });
    assert.equal((await check()).status, 200);
    // Keystone's revocation events have second precision: step past the issue second.
    await new Promise((r) => setTimeout(r, 1100));
    await t.cloud.identity.service.revocations.revoke({ user_id: f.trusteeId });
    assert.equal((await check()).status, 404);
  });

  it('prints expires_at with zeroed microseconds and rejects bad dates', async () => {
    const { f, trustorToken } = await setup();
    const soon = new Date(Date.now() + 3600_000);
    const seconds = soon.toISOString().slice(0, 19);
    const res = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { expires_at: `${seconds}Z` }) });
    assert.equal(res.status, 201);
    assert.equal(res.json.trust.expires_at, `${seconds}.000000Z`);
    const shown = await t.request('GET', `${TRUSTS}/${res.json.trust.id}`, { token: trustorToken });
    assert.equal(shown.json.trust.expires_at, `${seconds}.000000Z`);
    const micro = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { expires_at: `${seconds}.654321`, impersonation: false }) });
    assert.equal(micro.status, 201);
    assert.equal(micro.json.trust.expires_at, `${seconds}.000000Z`);

    const bad = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { expires_at: 'bad.123Z' }) });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.title, 'Bad Request');
    const past = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { expires_at: '2000-01-01T00:00:00Z' }) });
    assert.equal(past.status, 400);
    const list = await t.request('GET', `${TRUSTS}?trustor_user_id=${f.trustorId}`, { token: trustorToken });
    assert.equal(list.json.trusts.length, 2, 'rejected creates store nothing');
  });

  it('validates the request like Keystone', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const cases: [Record<string, unknown>, number][] = [
      [{ impersonation: undefined }, 400],
      [{ impersonation: 'yes' }, 400],
      [{ remaining_uses: 0 }, 400],
      [{ roles: [{ id: 'x', name: 'y' }] }, 400],
      [{ trustee_user_id: 'no-such-user' }, 404],
      [{ project_id: 'no-such-project' }, 404],
      [{ roles: [{ name: 'no-such-role' }] }, 404],
      [{ roles: [{ name: 'admin' }] }, 404],
      [{ roles: [] }, 403],
      [{ redelegation_count: 5, allow_redelegation: true }, 403],
      [{ remaining_uses: 3, allow_redelegation: true }, 400],
    ];
    for (const [override, status] of cases) {
      const body = trustBody(f, override);
      const res = await t.request('POST', TRUSTS, { token: trustorToken, body });
      assert.equal(res.status, status, `${JSON.stringify(override)} → ${res.status} ${res.text}`);
    }
    const notMe = await t.request('POST', TRUSTS, { token: trusteeToken, body: trustBody(f) });
    assert.equal(notMe.status, 403);
    const unscopedTrust = await t.request('POST', TRUSTS, { token: trustorToken, body: { trust: { trustor_user_id: f.trustorId, trustee_user_id: f.trusteeId, impersonation: false } } });
    assert.equal(unscopedTrust.status, 201);
    assert.equal(unscopedTrust.json.trust.project_id, null);
    assert.deepEqual(unscopedTrust.json.trust.roles, []);
  });

  it('lists trusts for the trustor, the trustee, or everyone for admins', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const created = await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f) });
    const id = created.json.trust.id;
    const mine = await t.request('GET', `${TRUSTS}/?trustor_user_id=${f.trustorId}`, { token: trustorToken });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.json.trusts.map((x: { id: string }) => x.id), [id]);
    assert.equal(mine.json.trusts[0].roles, undefined, 'lists leave roles out');
    assert.equal(mine.json.trusts[0].impersonation, true);
    const theirs = await t.request('GET', `${TRUSTS}?trustee_user_id=${f.trusteeId}`, { token: trusteeToken });
    assert.deepEqual(theirs.json.trusts.map((x: { id: string }) => x.id), [id]);
    assert.equal((await t.request('GET', `${TRUSTS}?trustee_user_id=${f.trusteeId}`, { token: trustorToken })).status, 403);
    const all = await t.request('GET', TRUSTS, { token: trustorToken });
    assert.equal(all.status, 403);
    const admin = await t.request('GET', TRUSTS, { token: await t.adminToken() });
    assert.equal(admin.status, 200);
    assert.ok(admin.json.trusts.some((x: { id: string }) => x.id === id));
  });

  it('issues trust-scoped tokens, impersonating or not', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const imp = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f) })).json.trust;
    const res = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, imp.id) });
    assert.equal(res.status, 201);
    const token = res.json.token;
    assert.equal(token.user.id, f.trustorId, 'impersonation: the token is the trustor');
    assert.equal(token.project.id, f.projectId);
    assert.deepEqual(token.roles.map((r: { id: string }) => r.id), [f.delegatedRole.id]);
    assert.deepEqual(token['OS-TRUST:trust'], { id: imp.id, impersonation: true, trustee_user: { id: f.trusteeId }, trustor_user: { id: f.trustorId } });

    const plain = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { impersonation: false }) })).json.trust;
    const viaPassword = await t.request('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { id: f.trusteeId, password: PW } } }, scope: { 'OS-TRUST:trust': { id: plain.id } } } },
    });
    assert.equal(viaPassword.status, 201);
    assert.equal(viaPassword.json.token.user.id, f.trusteeId);
    assert.equal(viaPassword.json.token['OS-TRUST:trust'].impersonation, false);
    assert.deepEqual(viaPassword.json.token.roles.map((r: { id: string }) => r.id), [f.delegatedRole.id]);
    const trustToken = String(viaPassword.headers['x-subject-token']);
    assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token: trustToken })).status, 200);

    const rescope = await t.request('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: trustToken } }, scope: { project: { id: f.projectId } } } } });
    assert.equal(rescope.status, 403);
    const stranger = await t.login({ name: `carol${'-' + n}`, password: PW }, 'unscoped');
    const notTrustee = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(stranger.token, plain.id) });
    assert.equal(notTrustee.status, 403);
    const unknown = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, 'f'.repeat(32)) });
    assert.equal(unknown.status, 401);

    // A trust-scoped token may not manage application credentials.
    const appCred = await t.request('POST', `/identity/v3/users/${f.trustorId}/application_credentials`, { token: String(res.headers['x-subject-token']), body: { application_credential: { name: 'via-trust' } } });
    assert.equal(appCred.status, 403);

    // Deleting the trust invalidates its tokens at once.
    assert.equal((await t.request('DELETE', `${TRUSTS}/${plain.id}`, { token: trustorToken })).status, 204);
    assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token: trustToken })).status, 401);
  });

  it('counts down remaining_uses', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const trust = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { remaining_uses: 2 }) })).json.trust;
    assert.equal(trust.remaining_uses, 2);
    const first = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, trust.id) });
    assert.equal(first.status, 201);
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`, { token: trustorToken })).json.trust.remaining_uses, 1);
    const notTrustee = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trustorToken, trust.id) });
    assert.equal(notTrustee.status, 403);
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`, { token: trustorToken })).json.trust.remaining_uses, 1, 'a failed use costs nothing');
    const second = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, trust.id) });
    assert.equal(second.status, 201);
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`, { token: trustorToken })).status, 404, 'a used-up trust is gone');
    const third = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, trust.id) });
    assert.equal(third.status, 401);
  });

  it('invalidates trust tokens when the trustor loses the role or a user is disabled or deleted', async () => {
    const svc = t.cloud.identity.service;
    const { f, trustorToken, trusteeToken } = await setup();
    const trust = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { impersonation: false }) })).json.trust;
    const issue = async () => String((await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, trust.id) })).headers['x-subject-token']);
    const catalog = async (token: string) => (await t.request('GET', '/identity/v3/auth/catalog', { token })).status;

    let token = await issue();
    assert.equal(await catalog(token), 200);
    await svc.assignments.revokeGrant({ actor: { kind: 'user', id: f.trustorId }, target: { kind: 'project', id: f.projectId }, roleId: f.delegatedRole.id, inherited: false });
    assert.equal(await catalog(token), 401);
    const noRoles = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, trust.id) });
    assert.equal(noRoles.status, 403);
    await svc.assignments.grant('UserProject', f.trustorId, f.projectId, f.delegatedRole.id);

    token = await issue();
    assert.equal(await catalog(token), 200);
    await svc.users.delete(f.trusteeId);
    assert.equal(await catalog(token), 401, 'deleted trustee');
    assert.equal((await t.request('GET', `${TRUSTS}/${trust.id}`, { token: await t.adminToken() })).status, 404);

    // Disabling the trustor revokes its tokens, trust tokens included (last: it revokes by second).
    const toCarol = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { trustee_user_id: f.thirdId, impersonation: false }) })).json.trust;
    const carol = await t.login({ name: `carol-${n}`, password: PW }, 'unscoped');
    token = String((await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(carol.token, toCarol.id) })).headers['x-subject-token']);
    assert.equal(await catalog(token), 200);
    await svc.users.update(f.trustorId, { enabled: false });
    assert.equal(await catalog(token), 401, 'disabled trustor');
  });

  it('redelegates within the limits of the original trust', async () => {
    const { f, trustorToken, trusteeToken } = await setup();
    const expires = new Date(Date.now() + 3600_000).toISOString();
    const parent = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f, { allow_redelegation: true, expires_at: expires }) })).json.trust;
    assert.equal(parent.redelegation_count, 3);
    assert.equal(parent.allow_redelegation, true);
    const parentToken = String((await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, parent.id) })).headers['x-subject-token']);

    // With an impersonating token the caller is the trustor, so the new trust names alice.
    const chained = (extra: Record<string, unknown>) => ({ trust: { ...trustBody(f).trust, trustee_user_id: f.thirdId, allow_redelegation: true, ...extra } });
    const tooLong = await t.request('POST', TRUSTS, { token: parentToken, body: chained({ expires_at: new Date(Date.now() + 7200_000).toISOString() }) });
    assert.equal(tooLong.status, 403);
    const moreRoles = await t.request('POST', TRUSTS, { token: parentToken, body: chained({ roles: [{ name: f.delegatedRole.name }, { name: f.keptRole.name }] }) });
    assert.equal(moreRoles.status, 403);
    const wrongCount = await t.request('POST', TRUSTS, { token: parentToken, body: chained({ redelegation_count: 1 }) });
    assert.equal(wrongCount.status, 403);
    const withUses = await t.request('POST', TRUSTS, { token: parentToken, body: chained({ remaining_uses: 1, allow_redelegation: false }) });
    assert.equal(withUses.status, 403);

    const child = await t.request('POST', TRUSTS, { token: parentToken, body: chained({}) });
    assert.equal(child.status, 201, child.text);
    assert.equal(child.json.trust.redelegated_trust_id, parent.id);
    assert.equal(child.json.trust.redelegation_count, 2);
    assert.equal(child.json.trust.expires_at, parent.expires_at, 'inherits the parent expiry');

    const carol = await t.login({ name: `carol-${n}`, password: PW }, 'unscoped');
    const childToken = await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(carol.token, child.json.trust.id) });
    assert.equal(childToken.status, 201);
    assert.equal(childToken.json.token.user.id, f.trustorId);
    assert.deepEqual(childToken.json.token.roles.map((r: { id: string }) => r.id), [f.delegatedRole.id]);

    // A trust that doesn't allow redelegation can't be redelegated.
    const flat = (await t.request('POST', TRUSTS, { token: trustorToken, body: trustBody(f) })).json.trust;
    const flatToken = String((await t.request('POST', '/identity/v3/auth/tokens', { body: trustAuth(trusteeToken, flat.id) })).headers['x-subject-token']);
    const denied = await t.request('POST', TRUSTS, { token: flatToken, body: chained({ allow_redelegation: false }) });
    assert.equal(denied.status, 403);

    // Deleting the parent takes the redelegated trust with it.
    assert.equal((await t.request('DELETE', `${TRUSTS}/${parent.id}`, { token: trustorToken })).status, 204);
    assert.equal((await t.request('GET', `${TRUSTS}/${child.json.trust.id}`, { token: trustorToken })).status, 404);
    assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token: String(childToken.headers['x-subject-token']) })).status, 401);
  });
});

describe('identity: trust expiry', () => {
  it('stops honouring an expired trust', async () => {
    const clock = new ManualClock(new Date());
    const t = await startTestCloud({ clock });
    try {
      const f = await seed(t.cloud.identity.service, '');
      const trustor = await t.login({ name: 'alice', password: PW }, { project: { id: f.projectId } });
      const trustee = await t.login({ name: 'bob', password: PW }, 'unscoped');
      const expires = new Date(clock.now().getTime() + 600_000).toISOString();
      const res = await t.request('POST', TRUSTS, {
        token: trustor.token,
        body: { trust: { trustor_user_id: f.trustorId, trustee_user_id: f.trusteeId, project_id: f.projectId, impersonation: false, expires_at: expires, roles: [{ id: f.delegatedRole.id }] } },
      });
      assert.equal(res.status, 201);
      const auth = await t.request('POST', '/identity/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['token'], token: { id: trustee.token } }, scope: { 'OS-TRUST:trust': { id: res.json.trust.id } } } },
      });
      assert.equal(auth.status, 201);
      const token = String(auth.headers['x-subject-token']);
      clock.advance(601_000);
      assert.equal((await t.request('GET', '/identity/v3/auth/catalog', { token })).status, 401);
      const fresh = await t.login({ name: 'bob', password: PW }, 'unscoped');
      const again = await t.request('POST', '/identity/v3/auth/tokens', {
        body: { auth: { identity: { methods: ['token'], token: { id: fresh.token } }, scope: { 'OS-TRUST:trust': { id: res.json.trust.id } } } },
      });
      assert.equal(again.status, 401);
      assert.equal((await t.request('GET', `${TRUSTS}/${res.json.trust.id}`, { token: fresh.token })).status, 404);
    } finally {
      await t.close();
    }
  });
});
