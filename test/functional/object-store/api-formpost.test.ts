import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startSwift, type SwiftCloud } from './helpers.js';

interface Form {
  path: string;
  key: string;
  redirect?: string;
  maxFileSize?: number;
  maxFileCount?: number;
  expires?: number;
  extra?: Record<string, string>;
  files: { name: string; data: string; type?: string }[];
  algo?: 'sha1' | 'sha256' | 'sha512';
}

function form(f: Form): { body: string; type: string } {
  const expires = String(f.expires ?? Math.floor(Date.now() / 1000) + 600);
  const maxSize = String(f.maxFileSize ?? 1024);
  const maxCount = String(f.maxFileCount ?? 10);
  const signature = createHmac(f.algo ?? 'sha1', f.key).update(`${f.path}\n${f.redirect ?? ''}\n${maxSize}\n${maxCount}\n${expires}`).digest('hex');
  const fields: Record<string, string> = { redirect: f.redirect ?? '', max_file_size: maxSize, max_file_count: maxCount, expires, signature, ...f.extra };
  const boundary = 'xYzZY';
  const lines: string[] = [];
  for (const [k, v] of Object.entries(fields)) lines.push(`--${boundary}`, `Content-Disposition: form-data; name="${k}"`, '', v);
  for (const file of f.files) {
    lines.push(`--${boundary}`, `Content-Disposition: form-data; name="file"; filename="${file.name}"`, `Content-Type: ${file.type ?? 'application/octet-stream'}`, '', file.data);
  }
  lines.push(`--${boundary}--`, '');
  return { body: lines.join('\r\n'), type: `multipart/form-data; boundary=${boundary}` };
}

describe('object-store API: FormPOST', () => {
  let sw: SwiftCloud;
  let path: string;
  before(async () => {
    sw = await startSwift();
    await sw.req('POST', '', { headers: { 'x-account-meta-temp-url-key': 'secret' } });
    await sw.req('PUT', '/uploads');
    path = `${sw.base}/uploads/in/`;
  });
  after(async () => sw?.close());

  test('/info advertises formpost', async () => {
    const info = JSON.parse((await sw.req('GET', '/object-store/info', { token: null })).text);
    assert.deepEqual(info.formpost, { allowed_digests: ['sha1', 'sha256', 'sha512'], deprecated_digests: ['sha1'] });
  });

  test('a signed form uploads its files under the prefix, anonymously', async () => {
    const f = form({ path, key: 'secret', files: [{ name: 'a.txt', data: 'hello', type: 'text/plain' }, { name: 'b.bin', data: 'world' }], extra: { x_delete_after: '3600' } });
    const res = await sw.req('POST', '/uploads/in/', { token: null, headers: { 'content-type': f.type }, body: f.body });
    assert.equal(res.status, 201);
    assert.equal(res.text, '201 Created');
    const a = await sw.req('GET', '/uploads/in/a.txt');
    assert.equal(a.text, 'hello');
    assert.equal(a.headers['content-type'], 'text/plain');
    assert.ok(a.headers['x-delete-at']);
    assert.equal((await sw.req('GET', '/uploads/in/b.bin')).text, 'world');
  });

  test('the path signed may carry the service prefix or start at /v1; sha512 works', async () => {
    const f = form({ path: path.replace(/^\/object-store/, ''), key: 'secret', algo: 'sha512', files: [{ name: 'c', data: 'c' }] });
    assert.equal((await sw.req('POST', '/uploads/in/', { token: null, headers: { 'content-type': f.type }, body: f.body })).status, 201);
  });

  test('redirect answers 303 with status and message in the Location', async () => {
    const f = form({ path, key: 'secret', redirect: 'https://example.com/done', files: [{ name: 'd', data: 'd' }] });
    const res = await sw.req('POST', '/uploads/in/', { token: null, headers: { 'content-type': f.type }, body: f.body });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, 'https://example.com/done?status=201&message=');
  });

  test('bad signature, expired form, too large file, too many files, no files', async () => {
    const post = (f: { body: string; type: string }) => sw.req('POST', '/uploads/in/', { token: null, headers: { 'content-type': f.type }, body: f.body });
    const wrong = await post(form({ path, key: 'other', files: [{ name: 'e', data: 'e' }] }));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, 'FormPost: Invalid Signature');
    const expired = await post(form({ path, key: 'secret', expires: Math.floor(Date.now() / 1000) - 10, files: [{ name: 'e', data: 'e' }] }));
    assert.equal(expired.status, 401);
    assert.equal(expired.text, 'FormPost: Form Expired');
    const large = await post(form({ path, key: 'secret', maxFileSize: 3, files: [{ name: 'big', data: 'too big' }] }));
    assert.equal(large.status, 400);
    assert.equal(large.text, 'FormPost: max_file_size exceeded');
    const many = await post(form({ path, key: 'secret', maxFileCount: 1, files: [{ name: 'm1', data: '1' }, { name: 'm2', data: '2' }] }));
    assert.equal(many.status, 400);
    assert.equal(many.text, '400 Bad Request\r\nFormPost: Max File Count Exceeded');
    assert.equal((await sw.req('HEAD', '/uploads/in/m1')).status, 200);
    assert.equal((await sw.req('HEAD', '/uploads/in/m2')).status, 404);
    assert.equal((await sw.req('HEAD', '/uploads/in/e')).status, 404);
    assert.equal((await sw.req('HEAD', '/uploads/in/big')).status, 404);
    const none = await post(form({ path, key: 'secret', files: [] }));
    assert.equal(none.text, '400 Bad Request\r\nFormPost: No Files To Process');
    const broken = await sw.req('POST', '/uploads/in/', { token: null, headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: 'garbage' });
    assert.equal(broken.status, 400);
    assert.equal(broken.text, 'FormPost: invalid starting boundary');
  });
});
