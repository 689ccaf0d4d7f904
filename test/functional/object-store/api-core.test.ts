import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startSwift, type SwiftCloud } from './helpers.js';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

describe('object-store API: accounts, containers, objects', () => {
  let sw: SwiftCloud;
  before(async () => {
    sw = await startSwift();
  });
  after(async () => sw?.close());

  test('a never-used account answers as an empty one; 204 for an empty plain listing', async () => {
    const head = await sw.req('HEAD', '');
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-account-container-count'], '0');
    assert.ok(head.headers['x-trans-id']);
    assert.equal(head.headers['x-openstack-request-id'], head.headers['x-trans-id']);
    const json = await sw.req('GET', '?format=json');
    assert.equal(json.status, 200);
    assert.equal(json.text, '[]');
  });

  test('container lifecycle with metadata, 201/202/204/404/409', async () => {
    assert.equal((await sw.req('PUT', '/life', { headers: { 'x-container-meta-color': 'blue' } })).status, 201);
    assert.equal((await sw.req('PUT', '/life')).status, 202);
    assert.equal((await sw.req('POST', '/life', { headers: { 'x-container-meta-size': 'L', 'x-remove-container-meta-color': 'x' } })).status, 204);
    const head = await sw.req('HEAD', '/life');
    assert.equal(head.status, 204);
    assert.equal(head.headers['x-container-meta-size'], 'L');
    assert.equal(head.headers['x-container-meta-color'], undefined);
    assert.equal(head.headers['x-container-object-count'], '0');
    assert.equal((await sw.req('PUT', '/life/o', { body: 'x' })).status, 201);
    const conflict = await sw.req('DELETE', '/life');
    assert.equal(conflict.status, 409);
    assert.match(conflict.text, /<h1>Conflict<\/h1>/);
    assert.equal((await sw.req('DELETE', '/life/o')).status, 204);
    assert.equal((await sw.req('DELETE', '/life/o')).status, 404);
    assert.equal((await sw.req('DELETE', '/life')).status, 204);
    const missing = await sw.req('GET', '/life');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
    assert.equal((await sw.req('POST', '/life')).status, 404);
  });

  test('object PUT/GET/HEAD/POST keeps data, type, metadata; ETag verified (422)', async () => {
    await sw.req('PUT', '/objs');
    const put = await sw.req('PUT', '/objs/dir/a.txt', { body: 'hello world', headers: { 'x-object-meta-color': 'red', 'content-disposition': 'inline' } });
    assert.equal(put.status, 201);
    assert.equal(put.headers.etag, md5('hello world'));
    const get = await sw.req('GET', '/objs/dir/a.txt');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'hello world');
    assert.equal(get.headers['content-type'], 'text/plain');
    assert.equal(get.headers['content-length'], '11');
    assert.equal(get.headers['x-object-meta-color'], 'red');
    assert.equal(get.headers['content-disposition'], 'inline');
    assert.ok(get.headers['last-modified']);
    assert.equal((await sw.req('PUT', '/objs/bad', { body: 'abc', headers: { etag: md5('abd') } })).status, 422);
    assert.equal((await sw.req('PUT', '/objs/good', { body: 'abc', headers: { etag: md5('abc'), 'content-type': 'not a valid type!' } })).status, 201);
    assert.equal((await sw.req('HEAD', '/objs/good')).headers['content-type'], 'not a valid type!');
    const post = await sw.req('POST', '/objs/dir/a.txt', { headers: { 'x-object-meta-shape': 'round' } });
    assert.equal(post.status, 202);
    const head = await sw.req('HEAD', '/objs/dir/a.txt');
    assert.equal(head.headers['x-object-meta-shape'], 'round');
    assert.equal(head.headers['x-object-meta-color'], undefined, 'POST replaces metadata');
    assert.equal(head.headers['content-length'], '11');
    assert.equal((await sw.req('PUT', '/nocontainer/o', { body: 'x' })).status, 404);
  });

  test('name and metadata constraints', async () => {
    await sw.req('PUT', '/lim');
    assert.equal((await sw.req('PUT', '/' + 'c'.repeat(257))).status, 400);
    assert.equal((await sw.req('PUT', '/lim/' + 'o'.repeat(1025), { body: 'x' })).status, 400);
    assert.equal((await sw.req('PUT', '/lim/' + 'o'.repeat(1024), { body: 'x' })).status, 201);
    // Fastify's router refuses malformed percent-encoding itself (400) before Swift's 412 check
    assert.ok([400, 412].includes((await sw.req('PUT', '/lim/%FF', { body: 'x' })).status));
    assert.equal((await sw.req('PUT', '/lim/a%00b', { body: 'x' })).status, 412);
    assert.equal((await sw.req('POST', '/lim', { headers: { ['x-container-meta-' + 'n'.repeat(129)]: 'v' } })).status, 400);
    assert.equal((await sw.req('POST', '/lim', { headers: { 'x-container-meta-k': 'v'.repeat(257) } })).status, 400);
    const many: Record<string, string> = {};
    for (let i = 0; i < 91; i++) many[`x-object-meta-k${i}`] = 'v';
    assert.equal((await sw.req('PUT', '/lim/m', { body: 'x', headers: many })).status, 400);
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`x-account-meta-k${i}`] = 'v'.repeat(250);
    const r = await sw.req('POST', '', { headers: big });
    assert.equal(r.status, 400);
    assert.match(r.text, /Total metadata too large/);
  });

  test('listings: json/xml/plain, Accept, prefix, delimiter, markers, limit, reverse, path', async () => {
    await sw.req('PUT', '/list');
    for (const n of ['a', 'b/1', 'b/2', 'c', 'd/x/y']) await sw.req('PUT', `/list/${n}`, { body: n });
    const plain = await sw.req('GET', '/list');
    assert.equal(plain.text, 'a\nb/1\nb/2\nc\nd/x/y\n');
    assert.equal((await sw.req('GET', '/list?delimiter=/')).text, 'a\nb/\nc\nd/\n');
    assert.equal((await sw.req('GET', '/list?prefix=b/')).text, 'b/1\nb/2\n');
    assert.equal((await sw.req('GET', '/list?marker=b/1&end_marker=d')).text, 'b/2\nc\n');
    assert.equal((await sw.req('GET', '/list?limit=2')).text, 'a\nb/1\n');
    assert.equal((await sw.req('GET', '/list?reverse=true&limit=2')).text, 'd/x/y\nc\n');
    assert.equal((await sw.req('GET', '/list?path=b')).text, 'b/1\nb/2\n');
    assert.equal((await sw.req('GET', '/list?limit=10001')).status, 412);
    const json = await sw.req('GET', '/list?format=json&prefix=a');
    const rows = JSON.parse(json.text) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(rows[0] ?? {}).sort(), ['bytes', 'content_type', 'hash', 'last_modified', 'name']);
    assert.equal(rows[0]?.hash, md5('a'));
    const accept = await sw.req('GET', '/list?delimiter=/', { headers: { accept: 'application/json' } });
    assert.equal(accept.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(accept.text)[1], { subdir: 'b/' });
    const xml = await sw.req('GET', '/list?format=xml&limit=1');
    assert.match(xml.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="list"><object><name>a<\/name>/);
    assert.equal((await sw.req('GET', '/list', { headers: { accept: 'image/png' } })).status, 406);
    assert.equal((await sw.req('GET', '/list?prefix=zzz')).status, 204);
    const account = await sw.req('GET', '?format=json&prefix=list');
    assert.equal(JSON.parse(account.text)[0].count, 5);
  });

  test('conditional requests and ranges', async () => {
    await sw.req('PUT', '/cond');
    const body = '0123456789';
    await sw.req('PUT', '/cond/o', { body });
    const etag = md5(body);
    assert.equal((await sw.req('GET', '/cond/o', { headers: { 'if-match': `"${etag}"` } })).status, 200);
    assert.equal((await sw.req('GET', '/cond/o', { headers: { 'if-match': 'nope' } })).status, 412);
    assert.equal((await sw.req('GET', '/cond/o', { headers: { 'if-none-match': etag } })).status, 304);
    const future = new Date(Date.now() + 3600_000).toUTCString();
    const past = new Date(Date.now() - 3600_000).toUTCString();
    assert.equal((await sw.req('GET', '/cond/o', { headers: { 'if-modified-since': future } })).status, 304);
    assert.equal((await sw.req('GET', '/cond/o', { headers: { 'if-unmodified-since': past } })).status, 412);
    assert.equal((await sw.req('PUT', '/cond/o', { body: 'x', headers: { 'if-none-match': '*' } })).status, 412);
    assert.equal((await sw.req('PUT', '/cond/new', { body: 'x', headers: { 'if-none-match': '*' } })).status, 201);
    const one = await sw.req('GET', '/cond/o', { headers: { range: 'bytes=2-4' } });
    assert.equal(one.status, 206);
    assert.equal(one.text, '234');
    assert.equal(one.headers['content-range'], 'bytes 2-4/10');
    assert.equal((await sw.req('GET', '/cond/o', { headers: { range: 'bytes=-3' } })).text, '789');
    assert.equal((await sw.req('GET', '/cond/o', { headers: { range: 'bytes=7-' } })).text, '789');
    const bad = await sw.req('GET', '/cond/o', { headers: { range: 'bytes=20-30' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10');
    assert.equal((await sw.req('GET', '/cond/o', { headers: { range: 'garbage' } })).status, 200);
    const multi = await sw.req('GET', '/cond/o', { headers: { range: 'bytes=0-1,8-9' } });
    assert.equal(multi.status, 206);
    const boundary = String(multi.headers['content-type']).split('boundary=')[1] as string;
    assert.ok(boundary);
    assert.match(multi.text, new RegExp(`--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--${boundary}\r\n`));
    assert.ok(multi.text.endsWith(`89\r\n--${boundary}--`));
    assert.equal(Number(multi.headers['content-length']), Buffer.byteLength(multi.text));
  });

  test('copy: COPY verb and X-Copy-From, metadata merge, X-Fresh-Metadata', async () => {
    await sw.req('PUT', '/cp');
    await sw.req('PUT', '/cp/src', { body: 'source', headers: { 'x-object-meta-a': '1', 'content-type': 'text/x-src' } });
    const copy = await sw.req('COPY', '/cp/src', { headers: { destination: '/cp/dst', 'x-object-meta-b': '2' } });
    assert.equal(copy.status, 201);
    assert.equal(copy.headers['x-copied-from'], 'cp/src');
    const dst = await sw.req('GET', '/cp/dst');
    assert.equal(dst.text, 'source');
    assert.equal(dst.headers['x-object-meta-a'], '1');
    assert.equal(dst.headers['x-object-meta-b'], '2');
    assert.equal(dst.headers['content-type'], 'text/x-src');
    assert.equal((await sw.req('PUT', '/cp/fresh', { body: '', headers: { 'x-copy-from': 'cp/src', 'x-fresh-metadata': 'true' } })).status, 201);
    assert.equal((await sw.req('HEAD', '/cp/fresh')).headers['x-object-meta-a'], undefined);
    assert.equal((await sw.req('COPY', '/cp/missing', { headers: { destination: 'cp/x' } })).status, 404);
    assert.equal((await sw.req('COPY', '/cp/src', { headers: { destination: 'nodest' } })).status, 412);
  });

  test('X-Delete-After hides the object once due; bad values are 400', async () => {
    await sw.req('PUT', '/exp');
    assert.equal((await sw.req('PUT', '/exp/o', { body: 'x', headers: { 'x-delete-after': 'soon' } })).status, 400);
    assert.equal((await sw.req('PUT', '/exp/o', { body: 'x', headers: { 'x-delete-at': '1000' } })).status, 400);
    assert.equal((await sw.req('PUT', '/exp/o', { body: 'x', headers: { 'x-delete-after': '1000' } })).status, 201);
    const head = await sw.req('HEAD', '/exp/o');
    assert.ok(Number(head.headers['x-delete-at']) > Date.now() / 1000);
  });

  test('length rules: 411 without length, chunked accepted, 413 over max_file_size', async () => {
    await sw.req('PUT', '/len');
    const chunked = await sw.t.cloud.app.inject({ method: 'PUT', url: `${sw.base}/len/chunked`, headers: { 'x-auth-token': sw.token, 'transfer-encoding': 'chunked' }, payload: 'abc' });
    assert.equal(chunked.statusCode, 201);
    assert.equal((await sw.req('PUT', '/len/big', { headers: { 'content-length': String(6 * 1024 ** 3) } })).status, 413);
  });
});
