import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/common/config/index.js';
import { createLogger } from '../../../src/common/log.js';
import { buildCloud, type Cloud } from '../../../src/app.js';

// Restarts on one data dir need SQLite in a temp dir; the PostgreSQL run covers the same code.
describe('identity: an explicit admin password on restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubes-bootstrap-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const boot = (adminPassword: string): Promise<Cloud> => {
    const config = loadConfig({
      env: {},
      overrides: { 'server.data_dir': dataDir, 'identity.admin_password': adminPassword, 'identity.password_hash_rounds': 4, 'log.level': 'silent' },
    });
    return buildCloud(config, { log: createLogger('silent') });
  };

  const login = async (cloud: Cloud, password: string) => {
    const res = await cloud.app.inject({
      method: 'POST',
      url: '/identity/v3/auth/tokens',
      payload: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    return { status: res.statusCode, token: String(res.headers['x-subject-token'] ?? '') };
  };

  const marker = () => readFileSync(join(dataDir, 'admin-password.verified'), 'utf8');

  it('is remembered without the password in clear, and a restart with it keeps the marker', async () => {
    let cloud = await boot('first-pw-1');
    assert.equal((await login(cloud, 'first-pw-1')).status, 201);
    await cloud.close();
    assert.ok(existsSync(join(dataDir, 'admin-password.verified')));
    const before = marker();
    assert.ok(!before.includes('first-pw-1'));

    cloud = await boot('first-pw-1');
    assert.equal((await login(cloud, 'first-pw-1')).status, 201);
    await cloud.close();
    assert.equal(marker(), before, 'a known password is not re-verified nor re-recorded');
  });

  it('still resets the password when it was changed through the API since', async () => {
    let cloud = await boot('first-pw-1');
    const { token } = await login(cloud, 'first-pw-1');
    const users = await cloud.app.inject({ method: 'GET', url: '/identity/v3/users?name=admin', headers: { 'x-auth-token': token } });
    const adminId = (JSON.parse(users.body) as { users: { id: string }[] }).users[0]?.id;
    assert.ok(adminId);
    const changed = await cloud.app.inject({ method: 'PATCH', url: `/identity/v3/users/${adminId}`, headers: { 'x-auth-token': token }, payload: { user: { password: 'changed-by-api' } } });
    assert.equal(changed.statusCode, 200, changed.body);
    await cloud.close();

    cloud = await boot('first-pw-1');
    assert.equal((await login(cloud, 'first-pw-1')).status, 201, 'the configured password wins again');
    assert.equal((await login(cloud, 'changed-by-api')).status, 401);
    await cloud.close();
  });

  it('takes a different configured password', async () => {
    const cloud = await boot('second-pw-2');
    assert.equal((await login(cloud, 'second-pw-2')).status, 201);
    assert.equal((await login(cloud, 'first-pw-1')).status, 401);
    await cloud.close();
  });
});
