import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { openstack, startServer, type RunningServer, adminEnv } from '../helpers/server.js';

/** Drives a real `nubes start` with Debian's python3-openstackclient, as a user would. */
describe('e2e: identity with python3-openstackclient', () => {
  let server: RunningServer;
  let admin: Record<string, string>;
  const os = (args: string[], env: Record<string, string> = admin) => {
    const res = openstack(args, env);
    assert.equal(res.status, 0, `openstack ${args.join(' ')} failed:\n${res.stderr}\n${res.stdout}`);
    return res.stdout;
  };
  const json = (args: string[], env?: Record<string, string>) => JSON.parse(os([...args, '-f', 'json'], env)) as Record<string, any>;

  before(async () => {
    assert.ok(existsSync('/usr/bin/openstack'), 'python3-openstackclient must be installed (.ci/run installs it)');
    server = await startServer();
    admin = adminEnv(server);
  });
  after(async () => {
    await server?.stop();
  });

  it('issues a token and lists the catalog', () => {
    const token = json(['token', 'issue']);
    assert.match(String(token.id), /^gAAAAA/);
    assert.equal(typeof token.project_id, 'string');
    const catalog = json(['catalog', 'list']) as unknown as { Type: string }[];
    assert.ok(catalog.some((s) => s.Type === 'identity'));
  });

  it('creates projects, users, groups and roles and assigns them', () => {
    const project = json(['project', 'create', 'e2e-proj', '--description', 'from e2e']);
    assert.equal(project.name, 'e2e-proj');
    const user = json(['user', 'create', 'e2e-user', '--password', 'e2e-user-pw', '--project', 'e2e-proj']);
    assert.equal(user.name, 'e2e-user');
    const group = json(['group', 'create', 'e2e-group']);
    assert.equal(group.name, 'e2e-group');
    os(['group', 'add', 'user', 'e2e-group', 'e2e-user']);
    const role = json(['role', 'create', 'e2e-role']);
    assert.equal(role.name, 'e2e-role');
    os(['role', 'add', '--project', 'e2e-proj', '--user', 'e2e-user', 'member']);
    os(['role', 'add', '--project', 'e2e-proj', '--group', 'e2e-group', 'e2e-role']);
    const assignments = json(['role', 'assignment', 'list', '--project', 'e2e-proj', '--names']) as unknown as { Role: string; User: string; Group: string }[];
    assert.ok(assignments.some((a) => a.Role === 'member' && a.User === 'e2e-user@Default'));
    assert.ok(assignments.some((a) => a.Role === 'e2e-role' && a.Group === 'e2e-group@Default'));
    const userEnv = { ...admin, OS_USERNAME: 'e2e-user', OS_PASSWORD: 'e2e-user-pw', OS_PROJECT_NAME: 'e2e-proj' };
    const token = json(['token', 'issue'], userEnv);
    assert.equal(token.project_id, project.id);
  });

  it('creates an application credential and authenticates with it', () => {
    const userEnv = { ...admin, OS_USERNAME: 'e2e-user', OS_PASSWORD: 'e2e-user-pw', OS_PROJECT_NAME: 'e2e-proj' };
    const cred = json(['application', 'credential', 'create', 'e2e-app', '--role', 'member'], userEnv);
    assert.equal(typeof cred.secret, 'string');
    const appEnv = {
      OS_AUTH_URL: server.authUrl,
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: String(cred.id),
      OS_APPLICATION_CREDENTIAL_SECRET: String(cred.secret),
      OS_IDENTITY_API_VERSION: '3',
    };
    const token = json(['token', 'issue'], appEnv);
    assert.equal(typeof token.id, 'string');
    assert.equal(typeof token.project_id, 'string');
  });

  it('creates a trust from one user to another and uses it', () => {
    json(['user', 'create', 'e2e-trustee', '--password', 'trustee-pw']);
    // The trustor must be the caller; the admin can resolve both users by name.
    const trust = json(['trust', 'create', '--project', 'admin', '--role', 'member', 'admin', 'e2e-trustee']);
    assert.equal(String(trust.impersonation).toLowerCase(), 'false');
    const trusts = json(['trust', 'list']) as unknown as { ID: string }[];
    assert.ok(trusts.some((t) => t.ID === trust.id));
    const trusteeEnv = {
      OS_AUTH_URL: server.authUrl,
      OS_USERNAME: 'e2e-trustee',
      OS_PASSWORD: 'trustee-pw',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_TRUST_ID: String(trust.id),
      OS_IDENTITY_API_VERSION: '3',
    };
    const token = json(['token', 'issue'], trusteeEnv);
    assert.equal(typeof token.id, 'string');
  });
});
