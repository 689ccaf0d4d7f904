import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';

/** The bad-input contract, one assertion per class of mistake: Keystone's body, a 4xx, nothing written. */
describe('identity: bad input', () => {
  let t: TestCloud;
  let token: string;
  before(async () => {
    t = await startTestCloud();
    token = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  const expectFault = (res: { status: number; json: Record<string, any> }, status: number) => {
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.equal(res.json.error.code, status);
    assert.equal(typeof res.json.error.title, 'string');
    assert.equal(typeof res.json.error.message, 'string');
  };
  const countUsers = async () => (await t.request('GET', '/identity/v3/users', { token })).json.users.length;

  it('malformed JSON -> 400', async () => {
    const before = await countUsers();
    expectFault(await t.request('POST', '/identity/v3/users', { token, rawBody: '{"user": {"name": "x"' }), 400);
    expectFault(await t.request('POST', '/identity/v3/projects', { token, rawBody: 'not json' }), 400);
    assert.equal(await countUsers(), before);
  });

  it('wrong types -> 400', async () => {
    expectFault(await t.request('POST', '/identity/v3/users', { token, body: { user: { name: 42 } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/users', { token, body: { user: { name: 'typed', enabled: 'true' } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'p', enabled: 1 } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/roles', { token, body: { role: 'admin' } }), 400);
    assert.equal((await t.request('GET', '/identity/v3/users?name=typed', { token })).json.users.length, 0);
  });

  it('missing fields -> 400', async () => {
    expectFault(await t.request('POST', '/identity/v3/users', { token, body: { user: {} } }), 400);
    expectFault(await t.request('POST', '/identity/v3/projects', { token, body: {} }), 400);
    expectFault(await t.request('POST', '/identity/v3/auth/tokens', { body: { auth: {} } }), 400);
    expectFault(await t.request('POST', '/identity/v3/regions', { token, body: { region: { parent_region_id: 42 } } }), 400);
  });

  it('unknown fields are kept where Keystone keeps them, refused where it refuses them', async () => {
    const created = await t.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'extra-attr', color: 'blue' } } });
    assert.equal(created.status, 201);
    assert.equal(created.json.project.color, 'blue');
    expectFault(await t.request('POST', '/identity/v3/users', { token, body: { user: { name: 'opt-user', options: { no_such_option: true } } } }), 400);
  });

  it('over-long and empty names -> 400', async () => {
    expectFault(await t.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'p'.repeat(65) } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/domains', { token, body: { domain: { name: '' } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/users', { token, body: { user: { name: 'u'.repeat(256) } } }), 400);
    expectFault(await t.request('POST', '/identity/v3/groups', { token, body: { group: { name: 'g'.repeat(65) } } }), 400);
  });

  it('bad or unknown ids -> 404 (or 400 where Keystone validates the id)', async () => {
    expectFault(await t.request('GET', '/identity/v3/users/not-a-uuid', { token }), 404);
    expectFault(await t.request('GET', '/identity/v3/projects/00000000000000000000000000000000', { token }), 404);
    expectFault(await t.request('DELETE', '/identity/v3/roles/%E2%9C%93', { token }), 404);
    expectFault(await t.request('PUT', '/identity/v3/projects/nope/users/nope/roles/nope', { token }), 404);
    expectFault(await t.request('POST', '/identity/v3/domains', { token, body: { domain: { name: 'badid', explicit_domain_id: 'not-hex' } } }), 400);
  });

  it('wrong password -> 401 without saying which part was wrong', async () => {
    const wrongPw = await t.login({ name: 'admin', password: 'wrong' });
    const noUser = await t.login({ name: 'no-such-user', password: 'wrong' });
    const badDomain = await t.login({ name: 'admin', password: 'wrong', domain: 'no-such-domain' });
    for (const res of [wrongPw, noUser, badDomain]) expectFault(res, 401);
    assert.equal(wrongPw.json.error.message, noUser.json.error.message);
    assert.equal(noUser.json.error.message, badDomain.json.error.message);
  });

  it('duplicates -> 409 and the original is untouched', async () => {
    const first = await t.request('POST', '/identity/v3/groups', { token, body: { group: { name: 'dup-group', description: 'first' } } });
    assert.equal(first.status, 201);
    expectFault(await t.request('POST', '/identity/v3/groups', { token, body: { group: { name: 'dup-group', description: 'second' } } }), 409);
    expectFault(await t.request('POST', '/identity/v3/roles', { token, body: { role: { name: 'admin' } } }), 409);
    const shown = await t.request('GET', `/identity/v3/groups/${first.json.group.id}`, { token });
    assert.equal(shown.json.group.description, 'first');
  });

  it('missing or bad tokens -> 401; insufficient roles -> 403', async () => {
    expectFault(await t.request('GET', '/identity/v3/users'), 401);
    expectFault(await t.request('GET', '/identity/v3/users', { token: 'gAAAAAgarbage' }), 401);
    const demo = await t.login({ name: 'demo', password: 'secret-admin-pw' }, { project: { name: 'demo', domain: { id: 'default' } } });
    expectFault(await t.request('POST', '/identity/v3/projects', { token: demo.token, body: { project: { name: 'by-demo' } } }), 403);
  });
});
