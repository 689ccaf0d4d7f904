import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
const CUSTOM = { identity: { driver: 'ldap' }, ldap: { url: 'ldap://myldap.com:389/', user_tree_dn: 'ou=Users,dc=my_new_root,dc=org' } };

describe('identity: domain configuration', () => {
  let t: TestCloud;
  let admin: string;
  before(async () => {
    t = await startTestCloud({ set: { 'identity.password_regex': '^.{8,}$', 'identity.password_regex_description': 'eight or more' } });
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  const newDomain = async () => (await t.request('POST', `${V3}/domains`, { token: admin, body: { domain: { name: `cfg-${Math.random().toString(36).slice(2)}` } } })).json.domain.id as string;
  const req = (method: string, path: string, body?: unknown) => t.request(method, `${V3}/domains/${path}`, { token: admin, body });

  it('shows the default configuration, per group and per option', async () => {
    const all = await req('GET', 'config/default');
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.json.config).sort(), ['identity', 'ldap']);
    assert.deepEqual(all.json.config.identity, { driver: 'sql', list_limit: null });
    assert.equal(all.json.config.ldap.url, 'ldap://localhost');
    assert.equal('password' in all.json.config.ldap, false);
    const identity = await req('GET', 'config/identity/default');
    assert.deepEqual(identity.json, { config: { identity: { driver: 'sql', list_limit: null } } });
    for (const option of Object.keys(all.json.config.ldap)) {
      const one = await req('GET', `config/ldap/${option}/default`);
      assert.equal(one.status, 200, option);
      assert.deepEqual(one.json.config, { [option]: all.json.config.ldap[option] });
    }
    const badGroup = await req('GET', 'config/nope/default');
    assert.equal(badGroup.status, 403);
    assert.equal(badGroup.json.error.message, 'Invalid domain specific configuration: Group nope is not supported for domain specific configurations.');
    assert.equal((await req('GET', 'config/ldap/password/default')).status, 403);
    assert.equal((await req('GET', 'config/ldap/nope/default')).status, 403);
  });

  it('creates a config (201, then 200 when replacing) and shows groups and options', async () => {
    const id = await newDomain();
    const created = await req('PUT', `${id}/config`, { config: CUSTOM });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json.config, CUSTOM);
    for (const [group, options] of Object.entries(CUSTOM)) {
      const g = await req('GET', `${id}/config/${group}`);
      assert.equal(g.status, 200);
      assert.deepEqual(g.json.config, { [group]: options });
      for (const [option, value] of Object.entries(options)) {
        const o = await req('GET', `${id}/config/${group}/${option}`);
        assert.deepEqual(o.json.config, { [option]: value });
      }
    }
    const replaced = await req('PUT', `${id}/config`, { config: { identity: { driver: 'sql' } } });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.json.config, { identity: { driver: 'sql' } });
    const ldapGone = await req('GET', `${id}/config/ldap`);
    assert.equal(ldapGone.status, 404);
    assert.equal(ldapGone.json.error.message, `Could not find group ldap in domain configuration for domain ${id}.`);
  });

  it('updates and deletes whole configs, groups and options', async () => {
    const id = await newDomain();
    await req('PUT', `${id}/config`, { config: CUSTOM });
    const newConfig = { ...CUSTOM, ldap: { ...CUSTOM.ldap, url: 'http://example.org/x' } };
    const updated = await req('PATCH', `${id}/config`, { config: newConfig });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.json.config, newConfig);
    assert.deepEqual((await req('GET', `${id}/config`)).json.config, newConfig);

    const group = await req('PATCH', `${id}/config/identity`, { config: { identity: { driver: 'drv2', list_limit: 42 } } });
    assert.equal(group.status, 200);
    assert.equal(group.json.config.identity.driver, 'drv2');
    assert.equal(group.json.config.identity.list_limit, 42);
    const option = await req('PATCH', `${id}/config/identity/driver`, { config: { driver: 'drv3' } });
    assert.equal(option.status, 200);
    assert.equal(option.json.config.identity.driver, 'drv3');
    assert.equal(option.json.config.ldap.url, 'http://example.org/x');
    // A group or option update names that group/option only, and it must exist already.
    assert.equal((await req('PATCH', `${id}/config/identity`, { config: { ldap: { url: 'x' } } })).status, 403);
    assert.equal((await req('PATCH', `${id}/config/identity/driver`, { config: { list_limit: 3 } })).status, 403);
    assert.equal((await req('PATCH', `${id}/config/ldap/user`, { config: { user: 'cn=x' } })).status, 404);

    assert.equal((await req('DELETE', `${id}/config/identity/driver`)).status, 204);
    assert.equal((await req('GET', `${id}/config/identity/driver`)).status, 404);
    assert.equal((await req('DELETE', `${id}/config/identity/driver`)).status, 404);
    assert.equal((await req('DELETE', `${id}/config/identity`)).status, 204);
    assert.equal((await req('GET', `${id}/config/identity`)).status, 404);
    assert.equal((await req('DELETE', `${id}/config`)).status, 204);
    const none = await req('GET', `${id}/config`);
    assert.equal(none.status, 404);
    assert.equal(none.json.error.message, `Could not find any options in domain configuration for domain ${id}.`);
  });

  it('refuses unsupported groups and options and hides sensitive ones', async () => {
    const id = await newDomain();
    const badGroup = await req('PUT', `${id}/config`, { config: { nope: { a: 1 } } });
    assert.equal(badGroup.status, 403);
    const badOption = await req('PUT', `${id}/config`, { config: { ldap: { nope: 1 } } });
    assert.equal(badOption.status, 403);
    assert.equal(badOption.json.error.message, 'Invalid domain specific configuration: Option nope in group ldap is not supported for domain specific configurations.');
    assert.equal((await req('PUT', `${id}/config`, { config: {} })).status, 403);
    assert.equal((await req('PUT', `${id}/config`, { config: { ldap: {} } })).status, 403);
    assert.equal((await req('PUT', `${id}/config`, {})).status, 403);
    assert.equal((await req('GET', `${id}/config`)).status, 404, 'refused writes stored nothing');

    const withSecret = await req('PUT', `${id}/config`, { config: { ldap: { url: 'ldap://x', password: 'hunter2' } } });
    assert.equal(withSecret.status, 201);
    assert.deepEqual(withSecret.json.config, { ldap: { url: 'ldap://x' } });
    assert.equal((await req('GET', `${id}/config/ldap/password`)).status, 404);
    assert.ok(!(await req('GET', `${id}/config`)).text.includes('hunter2'));
    const stored = await t.cloud.identity.service.core.db.selectFrom('identity_domain_configs').selectAll().where('domain_id', '=', id).where('option_name', '=', 'password').executeTakeFirst();
    assert.equal(stored?.sensitive, 1);

    assert.equal((await req('PUT', `${'0'.repeat(32)}/config`, { config: CUSTOM })).status, 404);
    assert.equal((await req('GET', `${'0'.repeat(32)}/config`)).status, 404);
  });

  it('is admin-only, except the default domain password rules', async () => {
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal((await t.request('GET', `${V3}/domains/config/default`, { token: demo.token })).status, 403);
    assert.equal((await t.request('PUT', `${V3}/domains/default/config`, { token: demo.token, body: { config: CUSTOM } })).status, 403);
    const rules = await t.request('GET', `${V3}/domains/default/config/security_compliance`, { token: demo.token });
    assert.equal(rules.status, 200);
    assert.deepEqual(rules.json.config, { security_compliance: { password_regex: '^.{8,}$', password_regex_description: 'eight or more' } });
    const one = await t.request('GET', `${V3}/domains/default/config/security_compliance/password_regex`, { token: demo.token });
    assert.deepEqual(one.json.config, { password_regex: '^.{8,}$' });
    assert.equal((await t.request('GET', `${V3}/domains/default/config/security_compliance/lockout_duration`, { token: demo.token })).status, 403);
    const other = await newDomain();
    assert.equal((await req('GET', `${other}/config/security_compliance`)).status, 403);
  });
});
