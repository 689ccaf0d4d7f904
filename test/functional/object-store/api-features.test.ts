import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSwift, type SwiftCloud } from './helpers.js';

describe('object-store API: versioning, CORS, static web, symlinks, crossdomain', () => {
  let sw: SwiftCloud;
  before(async () => {
    sw = await startSwift();
  });
  after(async () => sw?.close());

  const listing = async (path: string): Promise<{ name: string; content_type: string }[]> => JSON.parse((await sw.req('GET', `${path}?format=json`)).text);

  test('stack mode (X-Versions-Location): PUT archives, DELETE pops the previous version back', async () => {
    await sw.req('PUT', '/vers-archive');
    assert.equal((await sw.req('PUT', '/vers', { headers: { 'x-versions-location': 'vers-archive' } })).status, 201);
    assert.equal((await sw.req('HEAD', '/vers')).headers['x-versions-location'], 'vers-archive');
    await sw.req('PUT', '/vers/obj', { body: 'one', headers: { 'x-object-meta-n': '1' } });
    await sw.req('PUT', '/vers/obj', { body: 'two' });
    await sw.req('PUT', '/vers/obj', { body: 'three' });
    const archived = await listing('/vers-archive');
    assert.equal(archived.length, 2);
    assert.match(archived[0]!.name, /^003obj\/\d{10}\.\d{5}$/);
    assert.equal((await sw.req('DELETE', '/vers/obj')).status, 204);
    assert.equal((await sw.req('GET', '/vers/obj')).text, 'two');
    assert.equal((await sw.req('DELETE', '/vers/obj')).status, 204);
    const first = await sw.req('GET', '/vers/obj');
    assert.equal(first.text, 'one');
    assert.equal(first.headers['x-object-meta-n'], '1', 'metadata comes back with the version');
    assert.equal((await listing('/vers-archive')).length, 0);
    assert.equal((await sw.req('DELETE', '/vers/obj')).status, 204);
    assert.equal((await sw.req('GET', '/vers/obj')).status, 404);
    assert.equal((await sw.req('DELETE', '/vers/obj')).status, 404);
  });

  test('history mode (X-History-Location): DELETE archives and leaves a delete marker', async () => {
    await sw.req('PUT', '/hist-archive');
    await sw.req('PUT', '/hist', { headers: { 'x-history-location': 'hist-archive' } });
    const head = await sw.req('HEAD', '/hist');
    assert.equal(head.headers['x-history-location'], 'hist-archive');
    assert.equal(head.headers['x-versions-location'], undefined);
    await sw.req('PUT', '/hist/o', { body: 'a' });
    await sw.req('PUT', '/hist/o', { body: 'b' });
    assert.equal((await sw.req('DELETE', '/hist/o')).status, 204);
    assert.equal((await sw.req('GET', '/hist/o')).status, 404);
    const rows = await listing('/hist-archive');
    assert.deepEqual(rows.map((r) => r.content_type), ['application/octet-stream', 'application/octet-stream', 'application/x-deleted;swift_versions_deleted=1']);
  });

  test('versioning settings: one mode at a time, no slashes, removal; a missing archive fails the write with 412', async () => {
    const both = await sw.req('POST', '/hist', { headers: { 'x-versions-location': 'a', 'x-history-location': 'b' } });
    assert.equal(both.status, 400);
    assert.equal((await sw.req('POST', '/hist', { headers: { 'x-versions-location': 'a/b' } })).status, 412);
    await sw.req('POST', '/hist', { headers: { 'x-versions-location': 'nowhere' } });
    const head = await sw.req('HEAD', '/hist');
    assert.equal(head.headers['x-versions-location'], 'nowhere');
    assert.equal(head.headers['x-history-location'], undefined, 'switching mode replaces the other');
    await sw.req('PUT', '/hist/p', { body: '1' });
    assert.equal((await sw.req('PUT', '/hist/p', { body: '2' })).status, 412);
    await sw.req('POST', '/hist', { headers: { 'x-remove-versions-location': 'x' } });
    assert.equal((await sw.req('HEAD', '/hist')).headers['x-versions-location'], undefined);
    assert.equal((await sw.req('PUT', '/hist/p', { body: '2' })).status, 201);
    const info = JSON.parse((await sw.req('GET', '/object-store/info', { token: null })).text);
    assert.deepEqual(info.versioned_writes, { allowed_flags: ['x-versions-location', 'x-history-location'] });
  });

  test('CORS: preflight grants allowed origins (401 otherwise); answers carry Access-Control headers', async () => {
    await sw.req('PUT', '/cors', { headers: { 'x-container-meta-access-control-allow-origin': 'https://a.example https://b.example', 'x-container-meta-access-control-max-age': '60', 'x-container-meta-access-control-expose-headers': 'X-Custom' } });
    await sw.req('PUT', '/cors/o', { body: 'x', headers: { 'x-object-meta-k': 'v' } });
    const pre = await sw.req('OPTIONS', '/cors/o', { token: null, headers: { origin: 'https://a.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-auth-token' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal(pre.headers['access-control-max-age'], '60');
    assert.equal(pre.headers['access-control-allow-headers'], 'x-auth-token');
    assert.match(String(pre.headers['access-control-allow-methods']), /GET/);
    const denied = await sw.req('OPTIONS', '/cors/o', { token: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(denied.status, 401);
    const plain = await sw.req('OPTIONS', '/cors/o', { token: null });
    assert.equal(plain.status, 200);
    assert.match(String(plain.headers.allow), /GET/);
    const get = await sw.req('GET', '/cors/o', { headers: { origin: 'https://b.example' } });
    assert.equal(get.headers['access-control-allow-origin'], 'https://b.example');
    const exposed = String(get.headers['access-control-expose-headers']).split(', ');
    for (const h of ['etag', 'x-trans-id', 'x-object-meta-k', 'x-custom']) assert.ok(exposed.includes(h), h);
    const other = await sw.req('GET', '/cors/o', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  test('static web: index, listings with CSS, error pages, redirects; only for anonymous callers', async () => {
    await sw.req('PUT', '/site', { headers: { 'x-container-read': '.r:*,.rlistings', 'x-container-meta-web-index': 'index.html' } });
    await sw.req('PUT', '/site/index.html', { body: '<h1>home</h1>' });
    await sw.req('PUT', '/site/docs/page.html', { body: 'page' });
    await sw.req('PUT', '/site/404oops.html', { body: 'custom not found' });
    const redirect = await sw.req('GET', '/site', { token: null });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `${sw.base}/site/`);
    const index = await sw.req('GET', '/site/', { token: null });
    assert.equal(index.status, 200);
    assert.equal(index.text, '<h1>home</h1>');
    assert.equal((await sw.req('GET', '/site/')).text.split('\n').filter(Boolean).length, 3, 'an authenticated caller gets the API listing');
    await sw.req('POST', '/site', { headers: { 'x-container-meta-web-listings': 'true', 'x-container-meta-web-listings-css': 'style.css', 'x-container-meta-web-error': 'oops.html' } });
    const dir = await sw.req('GET', '/site/docs/', { token: null });
    assert.equal(dir.status, 200);
    assert.match(dir.text, /<link rel="stylesheet" type="text\/css" href="..\/style.css" \/>/);
    assert.match(dir.text, /<a href="page.html">page.html<\/a>/);
    assert.match(dir.text, /Listing of \/v1\/AUTH_[0-9a-f]+\/site\/docs\//);
    const toDir = await sw.req('GET', '/site/docs', { token: null });
    assert.equal(toDir.status, 301);
    const missing = await sw.req('GET', '/site/nothing', { token: null });
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'custom not found');
    assert.equal((await sw.req('GET', '/site/docs/page.html', { token: null })).text, 'page');
    const info = JSON.parse((await sw.req('GET', '/object-store/info', { token: null })).text);
    assert.deepEqual(info.staticweb, {});
  });

  test('symlinks: followed by GET/HEAD, shown with ?symlink=get, loops and static-link mismatches are 409', async () => {
    await sw.req('PUT', '/links');
    await sw.req('PUT', '/links/target', { body: 'pointed at', headers: { 'content-type': 'text/x-target' } });
    const put = await sw.req('PUT', '/links/l1', { headers: { 'x-symlink-target': 'links/target', 'content-length': '0' }, body: '' });
    assert.equal(put.status, 201);
    const got = await sw.req('GET', '/links/l1');
    assert.equal(got.text, 'pointed at');
    assert.equal(got.headers['content-type'], 'text/x-target');
    assert.equal(got.headers['content-location'], `/v1/AUTH_${sw.projectId}/links/target`);
    const raw = await sw.req('GET', '/links/l1?symlink=get');
    assert.equal(raw.text, '');
    assert.equal(raw.headers['x-symlink-target'], 'links/target');
    assert.equal(raw.headers['content-type'], 'application/symlink');
    const rows = await listing('/links');
    assert.ok(rows.some((r) => r.name === 'l1'));
    await sw.req('PUT', '/links/l2', { headers: { 'x-symlink-target': 'links/l1', 'content-length': '0' }, body: '' });
    await sw.req('PUT', '/links/l3', { headers: { 'x-symlink-target': 'links/l2', 'content-length': '0' }, body: '' });
    assert.equal((await sw.req('GET', '/links/l2')).text, 'pointed at');
    const loop = await sw.req('GET', '/links/l3');
    assert.equal(loop.status, 409);
    assert.equal(loop.text, 'Too many levels of symbolic links, maximum allowed is 2');
    assert.equal((await sw.req('PUT', '/links/self', { headers: { 'x-symlink-target': 'links/self', 'content-length': '0' }, body: '' })).status, 400);
    assert.equal((await sw.req('PUT', '/links/bad', { headers: { 'x-symlink-target': 'nocontainer', 'content-length': '0' }, body: '' })).status, 412);
    assert.equal((await sw.req('PUT', '/links/body', { headers: { 'x-symlink-target': 'links/target' }, body: 'data' })).status, 400);
    const etag = String((await sw.req('HEAD', '/links/target')).headers.etag);
    assert.equal((await sw.req('PUT', '/links/static', { headers: { 'x-symlink-target': 'links/target', 'x-symlink-target-etag': etag, 'content-length': '0' }, body: '' })).status, 201);
    assert.equal((await sw.req('PUT', '/links/wrong', { headers: { 'x-symlink-target': 'links/target', 'x-symlink-target-etag': 'abc', 'content-length': '0' }, body: '' })).status, 409);
    await sw.req('PUT', '/links/target', { body: 'changed' });
    const stale = await sw.req('GET', '/links/static');
    assert.equal(stale.status, 409);
    assert.match(stale.text, /does not match X-Symlink-Target-Etag header/);
    const post = await sw.req('POST', '/links/l1', { headers: { 'x-object-meta-a': 'b' } });
    assert.equal(post.status, 307);
    assert.equal(post.headers.location, `${sw.base}/links/target`);
    assert.equal((await sw.req('POST', '/links/target', { headers: { 'x-symlink-target': 'links/l1' } })).status, 400);
    await sw.req('DELETE', '/links/target');
    const dangling = await sw.req('GET', '/links/l1');
    assert.equal(dangling.status, 404);
    assert.ok(dangling.headers['content-location']);
  });

  test('a symlink into a private container needs read access to the target', async () => {
    await sw.req('PUT', '/pub', { headers: { 'x-container-read': '.r:*' } });
    await sw.req('PUT', '/priv');
    await sw.req('PUT', '/priv/secret', { body: 'secret' });
    await sw.req('PUT', '/pub/peek', { headers: { 'x-symlink-target': 'priv/secret', 'content-length': '0' }, body: '' });
    assert.equal((await sw.req('GET', '/pub/peek', { token: null })).status, 401);
    assert.equal((await sw.req('GET', '/pub/peek')).text, 'secret');
  });

  test('Swift header quirks: "_" in metadata names reads as "-", empty object metadata is kept, owners see ACLs of public containers', async () => {
    await sw.req('PUT', '/quirks', { headers: { 'x-container-meta-under_score': 'v', 'x-container-read': '.r:*,.rlistings' } });
    const head = await sw.req('HEAD', '/quirks');
    assert.equal(head.headers['x-container-meta-under-score'], 'v');
    assert.equal(head.headers['x-container-read'], '.r:*,.rlistings');
    assert.equal((await sw.req('HEAD', '/quirks', { token: null })).headers['x-container-read'], undefined);
    await sw.req('PUT', '/quirks/o', { body: 'x', headers: { 'x-object-meta-empty': '', 'x-object-meta-full': 'f' } });
    const obj = await sw.req('HEAD', '/quirks/o');
    assert.equal(obj.headers['x-object-meta-empty'], '');
    assert.equal(obj.headers['x-object-meta-full'], 'f');
    await sw.req('POST', '/quirks/o', { headers: { 'x-object-meta-other': '' } });
    const posted = await sw.req('HEAD', '/quirks/o');
    assert.equal(posted.headers['x-object-meta-other'], '');
    assert.equal(posted.headers['x-object-meta-empty'], undefined, 'POST replaces all metadata');
    const copy = await sw.req('COPY', '/quirks/o', { headers: { destination: 'quirks/c', 'x-object-meta-added': '' } });
    assert.equal(copy.status, 201);
    assert.equal(copy.headers['x-object-meta-other'], '', 'the copy answer shows the new object\'s metadata');
    assert.equal(copy.headers['x-object-meta-added'], '');
    assert.equal((await sw.req('HEAD', '/quirks/c')).headers['x-object-meta-added'], '');
  });

  test('crossdomain.xml', async () => {
    const res = await sw.req('GET', '/object-store/crossdomain.xml', { token: null });
    assert.equal(res.status, 200);
    assert.match(res.text, /^<\?xml version="1.0"\?>\n<!DOCTYPE cross-domain-policy SYSTEM "http:\/\/www.adobe.com\/xml\/dtds\/cross-domain-policy.dtd" >\n<cross-domain-policy>\n/);
    assert.match(res.text, /<\/cross-domain-policy>$/);
  });
});
