import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startSwift, type SwiftCloud } from './helpers.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('object-store API: large objects', () => {
  let sw: SwiftCloud;
  before(async () => {
    sw = await startSwift();
    await sw.req('PUT', '/seg');
    await sw.req('PUT', '/lo');
    for (const [n, body] of [['s/1', 'aaa'], ['s/2', 'bbb'], ['s/3', 'cc']]) await sw.req('PUT', `/seg/${n}`, { body });
  });
  after(async () => sw?.close());

  test('DLO: X-Object-Manifest concatenates the prefix listing; ranges span segments', async () => {
    assert.equal((await sw.req('PUT', '/lo/dlo', { body: 'x', headers: { 'x-object-manifest': 'seg/s/' } })).status, 201);
    const get = await sw.req('GET', '/lo/dlo');
    assert.equal(get.text, 'aaabbbcc');
    assert.equal(get.headers.etag, `"${md5(md5('aaa') + md5('bbb') + md5('cc'))}"`);
    assert.equal(get.headers['content-length'], '8');
    assert.equal((await sw.req('GET', '/lo/dlo', { headers: { range: 'bytes=2-6' } })).text, 'abbbc');
    assert.equal((await sw.req('GET', '/lo/dlo?multipart-manifest=get')).text, 'x');
  });

  test('SLO: put validates segments, GET concatenates, manifest get and delete', async () => {
    const manifest = [
      { path: '/seg/s/1', etag: md5('aaa'), size_bytes: 3 },
      { path: 'seg/s/3', etag: null, size_bytes: null },
      { path: '/seg/s/2', range: '1-2' },
    ];
    const put = await sw.req('PUT', '/lo/slo?multipart-manifest=put', { body: JSON.stringify(manifest) });
    assert.equal(put.status, 201);
    const sloEtag = md5(md5('aaa') + md5('cc') + `${md5('bbb')}:1-2;`);
    assert.equal(put.headers.etag, `"${sloEtag}"`);
    const get = await sw.req('GET', '/lo/slo');
    assert.equal(get.text, 'aaaccbb');
    assert.equal(get.headers['x-static-large-object'], 'True');
    assert.equal(get.headers.etag, `"${sloEtag}"`);
    assert.equal((await sw.req('GET', '/lo/slo', { headers: { range: 'bytes=-3' } })).text, 'cbb');
    const raw = await sw.req('GET', '/lo/slo?multipart-manifest=get');
    assert.equal(JSON.parse(raw.text).length, 3);
    const bad = await sw.req('PUT', '/lo/bad?multipart-manifest=put', { body: JSON.stringify([{ path: '/seg/nope' }, { path: '/seg/s/1', etag: 'wrong' }]) });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /404 Not Found/);
    assert.match(bad.text, /Etag Mismatch/);
    assert.equal((await sw.req('PUT', '/lo/bad?multipart-manifest=put', { body: 'not json' })).status, 400);
    const copy = await sw.req('COPY', '/lo/slo', { headers: { destination: 'lo/flat' } });
    assert.equal(copy.status, 201);
    assert.equal((await sw.req('GET', '/lo/flat')).text, 'aaaccbb');
    const del = await sw.req('DELETE', '/lo/slo?multipart-manifest=delete', { headers: { accept: 'application/json' } });
    assert.equal(del.status, 200);
    assert.equal(JSON.parse(del.text)['Number Deleted'], 4);
    assert.equal((await sw.req('HEAD', '/seg/s/1')).status, 404);
  });
});
