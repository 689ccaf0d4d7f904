import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { amzDate, encodePath, signRequest, tags } from './s3-client.js';
import { sha256Hex } from '../../../src/services/object-store/s3/sigv4.js';

/** The S3 API mounted by the object-store module, with secrets from identity's EC2 credentials. */
describe('S3 API in the whole cloud', () => {
  let t: TestCloud;
  let token: string;
  let userId: string;
  let projectId: string;
  let access: string;
  let secret: string;

  before(async () => {
    t = await startTestCloud();
    const login = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
    token = login.token;
    userId = login.json.token.user.id;
    projectId = login.json.token.project.id;
    const created = await t.request('POST', `/identity/v3/users/${userId}/credentials/OS-EC2`, { token, body: { tenant_id: projectId } });
    assert.equal(created.status, 201, created.text);
    access = created.json.credential.access;
    secret = created.json.credential.secret;
  });
  after(async () => t.close());

  async function s3(method: string, path: string, body = '', key = access, sec = secret) {
    const rawPath = `/object-store/s3${encodePath(path)}`;
    const now = new Date();
    const headers: Record<string, string> = { host: 'localhost:80', 'x-amz-date': amzDate(now), 'x-amz-content-sha256': sha256Hex(body) };
    headers.authorization = signRequest(method, rawPath, [], headers, headers['x-amz-content-sha256'] ?? '', sec, key, now);
    const res = await t.cloud.app.inject({ method: method as 'GET', url: rawPath, headers, payload: body || undefined });
    return { status: res.statusCode, text: res.body, headers: res.headers };
  }

  test('EC2 credentials sign S3 requests; buckets are the project account containers', async () => {
    let r = await s3('PUT', '/shared');
    assert.equal(r.status, 200, r.text);
    r = await s3('PUT', '/shared/hello.txt', 'from s3');
    assert.equal(r.status, 200, r.text);
    // The same object through the Swift API of the project's account.
    const swift = await t.cloud.app.inject({ method: 'GET', url: `/object-store/v1/AUTH_${projectId}/shared/hello.txt`, headers: { 'x-auth-token': token } });
    assert.equal(swift.statusCode, 200, swift.body);
    assert.equal(swift.body, 'from s3');
    r = await s3('GET', '/');
    assert.deepEqual(tags(r.text, 'Name'), ['shared']);
  });

  test('unknown and deleted access keys are refused', async () => {
    let r = await s3('GET', '/', '', 'no-such-access', 'x');
    assert.equal(r.status, 403);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidAccessKeyId']);
    r = await s3('GET', '/', '', access, 'wrong-secret');
    assert.deepEqual(tags(r.text, 'Code'), ['SignatureDoesNotMatch']);
    const extra = await t.request('POST', `/identity/v3/users/${userId}/credentials/OS-EC2`, { token, body: { tenant_id: projectId } });
    const key2 = extra.json.credential.access;
    const sec2 = extra.json.credential.secret;
    assert.equal((await s3('GET', '/', '', key2, sec2)).status, 200);
    const del = await t.request('DELETE', `/identity/v3/users/${userId}/credentials/OS-EC2/${key2}`, { token });
    assert.equal(del.status, 204);
    r = await s3('GET', '/', '', key2, sec2);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidAccessKeyId']);
  });
});
