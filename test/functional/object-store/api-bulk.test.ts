import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startSwift, type SwiftCloud } from './helpers.js';
import { makeTar } from './tar-fixture.js';

describe('object-store API: bulk delete and extract archive', () => {
  let sw: SwiftCloud;
  before(async () => {
    sw = await startSwift();
  });
  after(async () => sw?.close());

  test('/info advertises the bulk middleware; transaction ids have Swift\'s format', async () => {
    const info = await sw.req('GET', '/object-store/info', { token: null });
    const body = JSON.parse(info.text);
    assert.deepEqual(body.bulk_delete, { max_deletes_per_request: 10000, max_failed_deletes: 1000 });
    assert.deepEqual(body.bulk_upload, { max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
    assert.match(String(info.headers['x-trans-id']), /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    assert.equal(info.headers['x-openstack-request-id'], info.headers['x-trans-id']);
  });

  test('bulk delete removes objects, then containers, and reports in JSON', async () => {
    await sw.req('PUT', '/bd');
    await sw.req('PUT', '/bd/a', { body: '1' });
    await sw.req('PUT', '/bd/dir/b%20c', { body: '2' });
    const res = await sw.req('POST', '?bulk-delete', { headers: { accept: 'application/json', 'content-type': 'text/plain' }, body: 'bd\n/bd/a\nbd/dir/b%20c\n/bd/missing\n' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(res.text), { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 3, 'Number Not Found': 1, Errors: [] });
    assert.equal((await sw.req('HEAD', '/bd')).status, 404);
  });

  test('bulk delete reports failures in plain text and refuses other body types', async () => {
    await sw.req('PUT', '/full');
    await sw.req('PUT', '/full/x', { body: 'x' });
    const res = await sw.req('DELETE', '?bulk-delete', { body: '/full\n' });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/full, 409 Conflict\n');
    const json = await sw.req('POST', '?bulk-delete', { headers: { 'content-type': 'application/json' }, body: '["/full/x"]' });
    assert.match(json.text, /Response Status: 406 Not Acceptable/);
    assert.equal((await sw.req('HEAD', '/full/x')).status, 200, 'nothing was deleted');
    const xml = await sw.req('POST', '?bulk-delete', { headers: { accept: 'application/xml', 'content-length': '0' }, body: '' });
    assert.match(xml.text, /^<delete>\n<number_deleted>0<\/number_deleted>\n/);
    assert.match(xml.text, /<response_body>Invalid bulk delete.<\/response_body>/);
  });

  test('anonymous bulk deletes are refused object by object (401 in the report)', async () => {
    const res = await sw.req('POST', '?bulk-delete', { token: null, headers: { accept: 'application/json' }, body: '/full/x' });
    const body = JSON.parse(res.text);
    assert.equal(body['Response Status'], '400 Bad Request');
    assert.deepEqual(body.Errors, [['/full/x', '401 Unauthorized']]);
    assert.equal((await sw.req('HEAD', '/full/x')).status, 200);
  });

  test('extract archive into the account creates containers and objects; top-level files are ignored', async () => {
    const tar = makeTar([
      { name: 'arch/', type: '5' },
      { name: 'arch/one.txt', data: 'first' },
      { name: './arch/sub/two.json', data: '{"a":1}', pax: { 'SCHILY.xattr.user.meta.color': 'blue', 'SCHILY.xattr.user.mime_type': 'application/x-test' } },
      { name: 'loose.txt', data: 'ignored' },
    ]);
    const res = await sw.req('PUT', '?extract-archive=tar', { headers: { accept: 'application/json', 'x-object-meta-batch': '7' }, body: tar });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { 'Response Status': '201 Created', 'Response Body': '', 'Number Files Created': 2, Errors: [] });
    const one = await sw.req('GET', '/arch/one.txt');
    assert.equal(one.text, 'first');
    assert.equal(one.headers['content-type'], 'text/plain');
    assert.equal(one.headers['x-object-meta-batch'], '7');
    const two = await sw.req('HEAD', '/arch/sub/two.json');
    assert.equal(two.headers['content-type'], 'application/x-test');
    assert.equal(two.headers['x-object-meta-color'], 'blue');
  });

  test('extract archive (tar.gz) into a container prefix; bad archives and formats are reported', async () => {
    await sw.req('PUT', '/gz');
    const gz = gzipSync(makeTar([{ name: 'f.bin', data: 'x'.repeat(70000) }]));
    const res = await sw.req('PUT', '/gz/pre/?extract-archive=tar.gz', { body: gz });
    assert.match(res.text, /Number Files Created: 1\n/);
    assert.equal((await sw.req('HEAD', '/gz/pre/f.bin')).headers['content-length'], '70000');
    const bad = await sw.req('PUT', '/gz?extract-archive=tar.gz', { headers: { accept: 'application/json' }, body: 'not gzip at all' });
    const report = JSON.parse(bad.text);
    assert.equal(report['Response Status'], '400 Bad Request');
    assert.match(report['Response Body'], /^Invalid Tar File: /);
    const junk = await sw.req('PUT', '/gz?extract-archive=tar', { headers: { accept: 'application/json' }, body: Buffer.alloc(1024, 7) });
    assert.match(JSON.parse(junk.text)['Response Body'], /^Invalid Tar File: /);
    const unknown = await sw.req('PUT', '/gz?extract-archive=zip', { body: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.text, 'Unsupported archive format');
  });

  test('extract archive (tar.bz2) through bzip2', { skip: spawnSync('bzip2', ['--help']).error ? 'bzip2 is not installed' : false }, async () => {
    const bz = spawnSync('bzip2', ['-c'], { input: makeTar([{ name: 'bz/file', data: 'bzipped' }]) }).stdout;
    const res = await sw.req('PUT', '?extract-archive=tar.bz2', { body: bz });
    assert.match(res.text, /Number Files Created: 1\n/);
    assert.equal((await sw.req('GET', '/bz/file')).text, 'bzipped');
  });
});
