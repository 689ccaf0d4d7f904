import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSwift, type SwiftCloud } from './helpers.js';

interface Person {
  token: string;
  userId: string;
  projectId: string;
}

/** Creates a project and a user holding `role` on it; returns their project-scoped token. */
async function person(sw: SwiftCloud, name: string, role: string): Promise<Person> {
  const admin = sw.token;
  const roles = await sw.t.request('GET', `/identity/v3/roles?name=${role}`, { token: admin });
  let roleId = roles.json.roles[0]?.id as string | undefined;
  if (!roleId) roleId = (await sw.t.request('POST', '/identity/v3/roles', { token: admin, body: { role: { name: role } } })).json.role.id as string;
  const project = (await sw.t.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: `p-${name}`, domain_id: 'default' } } })).json.project;
  const user = (await sw.t.request('POST', '/identity/v3/users', { token: admin, body: { user: { name, password: 'pw-' + name, domain_id: 'default' } } })).json.user;
  await sw.t.request('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${roleId}`, { token: admin });
  const login = await sw.t.login({ name, password: 'pw-' + name }, { project: { id: project.id } });
  assert.equal(login.status, 201);
  return { token: login.token, userId: user.id, projectId: project.id };
}

describe('object-store API: keystoneauth and ACLs', () => {
  let sw: SwiftCloud;
  let alice: Person;
  let bob: Person;
  let reseller: Person;
  before(async () => {
    sw = await startSwift();
    alice = await person(sw, 'alice', 'member');
    bob = await person(sw, 'bob', 'member');
    reseller = await person(sw, 'rs', 'ResellerAdmin');
  });
  after(async () => sw?.close());

  const acct = (p: Person) => `/object-store/v1/AUTH_${p.projectId}`;

  test('a member owns their project account; others get 403, no token 401', async () => {
    assert.equal((await sw.req('PUT', `${acct(alice)}/c`, { token: alice.token })).status, 201);
    assert.equal((await sw.req('PUT', `${acct(alice)}/c/o`, { token: alice.token, body: 'secret' })).status, 201);
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: bob.token })).status, 403);
    assert.equal((await sw.req('GET', `${acct(alice)}`, { token: bob.token })).status, 403);
    const anon = await sw.req('GET', `${acct(alice)}/c/o`, { token: null });
    assert.equal(anon.status, 401);
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: 'garbage' })).status, 401);
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: reseller.token })).status, 200);
    assert.equal((await sw.req('DELETE', `${acct(alice)}`, { token: alice.token })).status, 403);
  });

  test('container ACLs: project:user read, .r:* public objects, .rlistings, write ACL', async () => {
    await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-read': `${bob.projectId}:${bob.userId}` } });
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: bob.token })).text, 'secret');
    assert.equal((await sw.req('PUT', `${acct(alice)}/c/new`, { token: bob.token, body: 'x' })).status, 403);
    const asBob = await sw.req('HEAD', `${acct(alice)}/c`, { token: bob.token });
    assert.equal(asBob.status, 204);
    assert.equal(asBob.headers['x-container-read'], undefined, 'ACLs are shown to owners only');
    assert.equal((await sw.req('HEAD', `${acct(alice)}/c`, { token: alice.token })).headers['x-container-read'], `${bob.projectId}:${bob.userId}`);

    await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-write': `${bob.projectId}:*` } });
    assert.equal((await sw.req('PUT', `${acct(alice)}/c/from-bob`, { token: bob.token, body: 'x' })).status, 201);

    await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-read': '.r:*' } });
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: null })).text, 'secret');
    assert.equal((await sw.req('GET', `${acct(alice)}/c`, { token: null })).status, 401, 'no listing without .rlistings');
    await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-read': '.r:*,.rlistings' } });
    assert.equal((await sw.req('GET', `${acct(alice)}/c`, { token: null })).status, 200);
    await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-read': '.r:.example.com' } });
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: null, headers: { referer: 'http://www.example.com/x' } })).status, 200);
    assert.equal((await sw.req('GET', `${acct(alice)}/c/o`, { token: null, headers: { referer: 'http://evil.org/' } })).status, 401);
    assert.equal((await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-write': '.r:*' } })).status, 400);
    assert.equal((await sw.req('POST', `${acct(alice)}/c`, { token: alice.token, headers: { 'x-container-read': '.r:' } })).status, 400);
  });

  test('account ACLs (X-Account-Access-Control)', async () => {
    await sw.req('PUT', `${acct(bob)}/shared`, { token: bob.token });
    assert.equal((await sw.req('GET', acct(bob), { token: alice.token })).status, 403);
    assert.equal((await sw.req('POST', acct(bob), { token: bob.token, headers: { 'x-account-access-control': 'not json' } })).status, 400);
    const acl = JSON.stringify({ 'read-only': [alice.userId] });
    assert.equal((await sw.req('POST', acct(bob), { token: bob.token, headers: { 'x-account-access-control': acl } })).status, 204);
    assert.equal((await sw.req('GET', acct(bob), { token: alice.token })).status, 200);
    assert.equal((await sw.req('PUT', `${acct(bob)}/shared/x`, { token: alice.token, body: 'x' })).status, 403);
    await sw.req('POST', acct(bob), { token: bob.token, headers: { 'x-account-access-control': JSON.stringify({ 'read-write': [alice.userId] }) } });
    assert.equal((await sw.req('PUT', `${acct(bob)}/shared/x`, { token: alice.token, body: 'x' })).status, 201);
    assert.equal((await sw.req('POST', acct(bob), { token: alice.token, headers: { 'x-account-meta-a': 'b' } })).status, 403);
  });

  test('account quotas are set by the reseller and enforced; container quotas by the owner', async () => {
    assert.equal((await sw.req('POST', acct(alice), { token: alice.token, headers: { 'x-account-meta-quota-bytes': '10' } })).status, 403);
    assert.equal((await sw.req('POST', acct(alice), { token: reseller.token, headers: { 'x-account-meta-quota-bytes': '20' } })).status, 204);
    const big = await sw.req('PUT', `${acct(alice)}/c/big`, { token: alice.token, body: 'x'.repeat(30) });
    assert.equal(big.status, 413);
    assert.match(big.text, /Upload exceeds quota/);
    await sw.req('POST', acct(alice), { token: reseller.token, headers: { 'x-remove-account-meta-quota-bytes': 'x' } });
    await sw.req('PUT', `${acct(alice)}/q`, { token: alice.token, headers: { 'x-container-meta-quota-count': '1' } });
    assert.equal((await sw.req('PUT', `${acct(alice)}/q/1`, { token: alice.token, body: 'x' })).status, 201);
    assert.equal((await sw.req('PUT', `${acct(alice)}/q/2`, { token: alice.token, body: 'x' })).status, 413);
  });
});
