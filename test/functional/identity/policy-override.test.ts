import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

/** An operator's policy file overrides the defaults in code, for any rule. */
describe('identity: policy override file', () => {
  let t: TestCloud;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nubes-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, [
      '# readers may list users here',
      '"identity:list_users": "role:reader"',
      '"identity:create_group": "!"',
    ].join('\n'));
    t = await startTestCloud({ set: { 'policy.policy_file': file } });
  });
  after(async () => {
    await t.close();
  });

  it('grants what the file grants and denies what it denies, with Keystone 403 bodies', async () => {
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    const listed = await t.request('GET', '/identity/v3/users', { token: demo.token });
    assert.equal(listed.status, 200, 'a member (implying reader) may list users under the override');
    const admin = await t.adminToken();
    const denied = await t.request('POST', '/identity/v3/groups', { token: admin, body: { group: { name: 'never' } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, 403);
    assert.match(denied.json.error.message, /identity:create_group/);
    const stillAdmin = await t.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'ok' } } });
    assert.equal(stillAdmin.status, 201, 'rules not in the file keep their defaults');
  });
});
