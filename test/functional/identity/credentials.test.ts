import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** AWS signature v2 as an EC2 client computes it (RFC 3986 encoding of sorted parameters). */
function signV2(secret: string, verb: string, host: string, path: string, params: Record<string, string>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = Object.keys(params).sort().map((k) => `${enc(k)}=${enc(params[k] ?? '')}`).join('&');
  return createHmac('sha256', secret).update(`${verb}\n${host}\n${path}\n${query}`).digest('base64');
}

describe('identity: credentials, OS-EC2 and ec2tokens', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let demoUserId: string;
  let demoProjectId: string;
  let adminUserId: string;

  before(async () => {
    t = await startTestCloud();
    const adminLogin = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
    admin = adminLogin.token;
    adminUserId = adminLogin.json.token.user.id;
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    demoUserId = login.json.token.user.id;
    demoProjectId = login.json.token.project.id;
  });
  after(async () => {
    await t.close();
  });

  const req = (method: string, path: string, token: string | null, body?: unknown) => t.request(method, `${V3}${path}`, { token, body });

  it('creates ec2 credentials with the sha256 of the access key as id, encrypted at rest', async () => {
    const blob = JSON.stringify({ access: 'AKIA-one', secret: 'very-secret-value' });
    const res = await req('POST', '/credentials', admin, { credential: { user_id: demoUserId, project_id: demoProjectId, type: 'ec2', blob, note: 'extra' } });
    assert.equal(res.status, 201, res.text);
    const cred = res.json.credential;
    assert.equal(cred.id, sha256('AKIA-one'));
    assert.deepEqual({ user_id: cred.user_id, project_id: cred.project_id, type: cred.type, blob: cred.blob, note: cred.note }, { user_id: demoUserId, project_id: demoProjectId, type: 'ec2', blob, note: 'extra' });
    assert.ok(String(cred.links.self).endsWith(`/identity/v3/credentials/${cred.id}`));

    const row = await t.cloud.db.typed<{ identity_credentials: { id: string; encrypted_blob: string } }>().selectFrom('identity_credentials').selectAll().where('id', '=', cred.id).executeTakeFirstOrThrow();
    assert.match(row.encrypted_blob, /^v1:[0-9a-f]{16}:/);
    assert.equal(row.encrypted_blob.includes('very-secret-value'), false);
    const keyDir = join(t.config.server.data_dir, 'credential-keys');
    assert.deepEqual(readdirSync(keyDir), ['0.key']);
    assert.equal(statSync(join(keyDir, '0.key')).mode & 0o777, 0o600);
    assert.equal(statSync(keyDir).mode & 0o777, 0o700);

    const shown = await req('GET', `/credentials/${cred.id}`, admin);
    assert.deepEqual(shown.json.credential, cred);
    assert.equal((await req('POST', '/credentials', admin, { credential: { user_id: demoUserId, project_id: demoProjectId, type: 'ec2', blob } })).status, 409);
  });

  it('validates ec2 blobs and the project they need', async () => {
    const base = { user_id: demoUserId, project_id: demoProjectId, type: 'ec2' };
    assert.equal((await req('POST', '/credentials', admin, { credential: { ...base, project_id: undefined, blob: JSON.stringify({ access: 'x' }) } })).status, 400);
    assert.equal((await req('POST', '/credentials', admin, { credential: { ...base, blob: 'not json' } })).status, 400);
    assert.equal((await req('POST', '/credentials', admin, { credential: { ...base, blob: '{"secret": "s"}' } })).status, 400);
    assert.equal((await req('POST', '/credentials', admin, { credential: { ...base, blob: '[1]' } })).status, 400);
    assert.equal((await req('POST', '/credentials', admin, { credential: { ...base, blob: { access: 'x' } } })).status, 400, 'blob must be a string');
    assert.equal((await req('POST', '/credentials', admin, { credential: { user_id: demoUserId, blob: 'x' } })).status, 400, 'type is required');
    const listed = await req('GET', '/credentials', admin);
    assert.equal(listed.json.credentials.length, 1, 'refused writes stored nothing');
  });

  it('updates project, type and blob like Tempest, keeping the id', async () => {
    const other = await t.cloud.identity.service.resource.createProject({ name: 'cred-other', domainId: 'default' });
    const blob = JSON.stringify({ access: 'AKIA-two', secret: 's2' });
    const cred = (await req('POST', '/credentials', admin, { credential: { user_id: demoUserId, project_id: demoProjectId, type: 'ec2', blob } })).json.credential;
    const newBlob = JSON.stringify({ access: 'AKIA-two-new', secret: 'new-secret' });
    const updated = await req('PATCH', `/credentials/${cred.id}`, admin, { credential: { blob: newBlob, project_id: other.id, type: 'ec2' } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.json.credential.id, cred.id);
    assert.equal(updated.json.credential.project_id, other.id);
    assert.deepEqual(JSON.parse(updated.json.credential.blob), { access: 'AKIA-two-new', secret: 'new-secret' });
    assert.deepEqual((await req('GET', `/credentials/${cred.id}`, admin)).json.credential, updated.json.credential);

    assert.equal((await req('PATCH', `/credentials/${cred.id}`, admin, { credential: { blob: JSON.stringify({ access: 'a', trust_id: 'sneaky' }) } })).status, 400);
    assert.equal((await req('PATCH', `/credentials/${cred.id}`, admin, { credential: {} })).status, 400);
    assert.equal((await req('PATCH', `/credentials/${cred.id}`, admin, { credential: { id: 'other' } })).status, 400);
    assert.equal((await req('PATCH', `/credentials/missing`, admin, { credential: { blob: 'x' } })).status, 404);
    const cert = (await req('POST', '/credentials', admin, { credential: { user_id: demoUserId, type: 'cert', blob: 'plain' } })).json.credential;
    assert.equal((await req('PATCH', `/credentials/${cert.id}`, admin, { credential: { type: 'ec2' } })).status, 400, 'an ec2 credential needs a JSON blob and a project');
    assert.equal((await req('GET', `/credentials/${cert.id}`, admin)).json.credential.type, 'cert');
  });

  it('lets users manage their own credentials only', async () => {
    const mine = await req('POST', '/credentials', demo, { credential: { user_id: demoUserId, type: 'totp', blob: 'abc' } });
    assert.equal(mine.status, 201);
    assert.match(mine.json.credential.id, /^[0-9a-f]{32}$/);
    const adminCred = (await req('POST', '/credentials', admin, { credential: { user_id: adminUserId, type: 'cert', blob: 'admin-only' } })).json.credential;

    assert.equal((await req('POST', '/credentials', demo, { credential: { user_id: adminUserId, type: 'cert', blob: 'x' } })).status, 403);
    const listed = await req('GET', '/credentials', demo);
    assert.equal(listed.status, 200);
    assert.ok(listed.json.credentials.length >= 1);
    assert.ok(listed.json.credentials.every((c: { user_id: string }) => c.user_id === demoUserId));
    const snooping = await req('GET', `/credentials?user_id=${adminUserId}`, demo);
    assert.deepEqual(snooping.json.credentials, []);
    assert.equal((await req('GET', `/credentials/${adminCred.id}`, demo)).status, 403);
    assert.equal((await req('DELETE', `/credentials/${adminCred.id}`, demo)).status, 403);
    assert.equal((await req('PATCH', `/credentials/${mine.json.credential.id}`, demo, { credential: { user_id: adminUserId } })).status, 403, 'no handing a credential to someone else');

    const byType = await req('GET', '/credentials?type=totp', admin);
    assert.deepEqual(byType.json.credentials.map((c: { id: string }) => c.id), [mine.json.credential.id]);
    const byUser = await req('GET', `/credentials?user_id=${adminUserId}`, admin);
    assert.deepEqual(byUser.json.credentials.map((c: { id: string }) => c.id), [adminCred.id]);

    assert.equal((await req('DELETE', `/credentials/${mine.json.credential.id}`, demo)).status, 204);
    // As in Keystone, only a caller the rule would let through learns that a credential is gone.
    assert.equal((await req('GET', `/credentials/${mine.json.credential.id}`, demo)).status, 403);
    assert.equal((await req('GET', `/credentials/${mine.json.credential.id}`, admin)).status, 404);
    assert.equal((await req('GET', '/credentials', null)).status, 401);
  });

  it('serves OS-EC2 credentials to their owner', async () => {
    const created = await req('POST', `/users/${demoUserId}/credentials/OS-EC2`, demo, { tenant_id: demoProjectId });
    assert.equal(created.status, 201, created.text);
    const c = created.json.credential;
    assert.deepEqual(Object.keys(c).sort(), ['access', 'links', 'secret', 'tenant_id', 'trust_id', 'user_id']);
    assert.match(c.access, /^[0-9a-f]{32}$/);
    assert.match(c.secret, /^[0-9a-f]{32}$/);
    assert.deepEqual({ user_id: c.user_id, tenant_id: c.tenant_id, trust_id: c.trust_id }, { user_id: demoUserId, tenant_id: demoProjectId, trust_id: null });
    assert.ok(String(c.links.self).endsWith(`/identity/v3/users/${demoUserId}/credentials/OS-EC2/${c.access}`));

    const v3cred = await req('GET', `/credentials/${sha256(c.access)}`, demo);
    assert.equal(v3cred.json.credential.type, 'ec2');

    const listed = await req('GET', `/users/${demoUserId}/credentials/OS-EC2`, demo);
    assert.ok(listed.json.credentials.some((x: { access: string }) => x.access === c.access));
    const shown = await req('GET', `/users/${demoUserId}/credentials/OS-EC2/${c.access}`, demo);
    assert.deepEqual(shown.json.credential, c);

    assert.equal((await req('POST', `/users/${adminUserId}/credentials/OS-EC2`, demo, { tenant_id: demoProjectId })).status, 403);
    assert.equal((await req('GET', `/users/${adminUserId}/credentials/OS-EC2/${c.access}`, demo)).status, 403);
    assert.equal((await req('POST', `/users/${demoUserId}/credentials/OS-EC2`, demo, {})).status, 404, 'tenant_id must name a project');
    assert.equal((await req('POST', `/users/nobody/credentials/OS-EC2`, admin, { tenant_id: demoProjectId })).status, 404);

    assert.equal((await req('DELETE', `/users/${demoUserId}/credentials/OS-EC2/${c.access}`, demo)).status, 204);
    assert.equal((await req('GET', `/users/${demoUserId}/credentials/OS-EC2/${c.access}`, demo)).status, 404);
  });

  it('exchanges a correctly signed EC2 request for a project token', async () => {
    const c = (await req('POST', `/users/${demoUserId}/credentials/OS-EC2`, demo, { tenant_id: demoProjectId })).json.credential;
    const params: Record<string, string> = {
      Action: 'DescribeInstances',
      AWSAccessKeyId: c.access,
      SignatureMethod: 'HmacSHA256',
      SignatureVersion: '2',
      Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Version: '2016-11-15',
    };
    const signed = { access: c.access, host: 'ec2.example:8788', verb: 'GET', path: '/', params, signature: signV2(c.secret, 'GET', 'ec2.example:8788', '/', params) };

    const res = await req('POST', '/ec2tokens', admin, { credentials: signed });
    assert.equal(res.status, 200, res.text);
    const token = String(res.headers['x-subject-token']);
    assert.ok(token.length > 50);
    assert.deepEqual(res.json.token.methods, ['ec2credential']);
    assert.equal(res.json.token.user.id, demoUserId);
    assert.equal(res.json.token.project.id, demoProjectId);
    assert.ok(res.json.token.catalog.some((s: { type: string }) => s.type === 'identity'));
    const validated = await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': token } });
    assert.equal(validated.status, 200);
    assert.deepEqual(validated.json.token.methods, ['ec2credential']);

    // The legacy body names and clients that drop the port when signing both work.
    const noPort = { ...signed, signature: signV2(c.secret, 'GET', 'ec2.example', '/', params) };
    assert.equal((await req('POST', '/ec2tokens', admin, { ec2Credentials: noPort })).status, 200);

    const bad = await req('POST', '/ec2tokens', admin, { credentials: { ...signed, signature: 'AAAA' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.message, 'Invalid EC2 signature.');
    assert.equal((await req('POST', '/ec2tokens', admin, { credentials: { ...signed, access: 'unknown' } })).status, 401);
    assert.equal((await req('POST', '/ec2tokens', admin, { credentials: { ...signed, signature: undefined } })).status, 401);
    assert.equal((await req('POST', '/ec2tokens', admin, { credentials: { ...signed, signature: 42 } })).status, 401);
    assert.equal((await req('POST', '/ec2tokens', admin, { credentials: {} })).status, 401);
    assert.equal((await req('POST', '/ec2tokens', admin, {})).status, 400);
    const oldParams = { ...params, Timestamp: '2011-10-03T15:19:30Z' };
    const expired = await req('POST', '/ec2tokens', admin, { credentials: { ...signed, params: oldParams, signature: signV2(c.secret, 'GET', 'ec2.example:8788', '/', oldParams) } });
    assert.equal(expired.status, 401);
    assert.equal(expired.json.error.message, 'Credential is expired');

    // Only services and admins may trade signatures for tokens.
    assert.equal((await req('POST', '/ec2tokens', demo, { credentials: signed })).status, 403);
    assert.equal((await req('POST', '/ec2tokens', null, { credentials: signed })).status, 401);

    // A token obtained through EC2 is delegated: it cannot mint more credentials.
    const viaEc2 = await req('POST', `/users/${demoUserId}/credentials/OS-EC2`, token, { tenant_id: demoProjectId });
    assert.equal(viaEc2.status, 403);
    assert.equal((await req('POST', '/credentials', token, { credential: { user_id: demoUserId, type: 'x', blob: 'y' } })).status, 403);

    // In-process form for the S3 API.
    const identity = await t.cloud.identity.service.credentials.verifyEc2Signature(signed);
    assert.deepEqual({ userId: identity.userId, projectId: identity.projectId }, { userId: demoUserId, projectId: demoProjectId });
    assert.ok(identity.roles.some((r) => r.name === 'member'));

    // A disabled project can no longer be reached with the credential.
    await t.cloud.identity.service.core.db.updateTable('identity_projects').set({ enabled: 0 }).where('id', '=', demoProjectId).execute();
    try {
      assert.equal((await req('POST', '/ec2tokens', admin, { credentials: signed })).status, 401);
    } finally {
      await t.cloud.identity.service.core.db.updateTable('identity_projects').set({ enabled: 1 }).where('id', '=', demoProjectId).execute();
    }
  });

  it('checks S3 string-to-sign signatures through s3tokens', async () => {
    const c = (await req('POST', `/users/${demoUserId}/credentials/OS-EC2`, demo, { tenant_id: demoProjectId })).json.credential;
    const stringToSign = `GET\n\n\n${new Date().toUTCString()}\n/bucket/key`;
    const signature = createHmac('sha1', c.secret).update(stringToSign).digest('base64');
    const token = Buffer.from(stringToSign).toString('base64url');
    const ok = await req('POST', '/s3tokens', admin, { credentials: { access: c.access, token, signature } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.token.project.id, demoProjectId);
    const bad = await req('POST', '/s3tokens', admin, { credentials: { access: c.access, token, signature: 'nope' } });
    assert.equal(bad.status, 401);
    const direct = await t.cloud.identity.service.credentials.verifyS3Signature({ access: c.access, token, signature });
    assert.equal(direct.userId, demoUserId);
  });
});
