import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listingDate } from '../storage/timestamp.js';
import type { ContainerListing, ObjectListing } from '../storage/types.js';
import { renderAccountListing, renderContainerListing } from './listing.js';

/** Names that take every path of the hand-written JSON: plain, escaped, multi-byte, astral, broken UTF-16. */
const NAMES = ['plain', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', '\u0001ctl', 'ünïcödé', '日本語', '😀 astral', 'lone \ud800 surrogate', '<x&y>', 'a/b/'];

function objects(): ObjectListing[] {
  const out: ObjectListing[] = NAMES.map((name, i) => ({ name, hash: `h${i}`, bytes: i * 1000, contentType: i % 2 ? 'text/plain; charset="utf-8"' : 'application/octet-stream', lastModified: listingDate(`170000000${i}.12345`) }));
  out.push({ name: 'link', hash: 'd41d8cd98f00b204e9800998ecf8427e', bytes: 0, contentType: 'application/symlink', lastModified: listingDate('1700000000.00001'), symlinkPath: '/v1/AUTH_a/c/"t"' });
  out.push({ subdir: 'dir "1"/' });
  return out;
}

/** The straightforward renderings the fast ones must equal byte for byte. */
function expectedContainerJson(items: ObjectListing[]): string {
  return JSON.stringify(items.map((i) => ('subdir' in i ? { subdir: i.subdir } : { hash: i.hash, last_modified: i.lastModified, bytes: i.bytes, name: i.name, content_type: i.contentType, ...(i.symlinkPath ? { symlink_path: i.symlinkPath } : {}) })));
}

describe('listing rendering', () => {
  it('container JSON equals JSON.stringify of the Swift fields, escapes included', () => {
    const items = objects();
    const body = renderContainerListing('json', 'c', items);
    assert.ok(Buffer.isBuffer(body));
    assert.equal(body.toString('utf8'), Buffer.from(expectedContainerJson(items)).toString('utf8'));
    assert.deepEqual(body, Buffer.from(expectedContainerJson(items)));
    assert.equal(renderContainerListing('json', 'c', []).toString(), '[]');
  });

  it('a listing larger than one body chunk stays whole and in order', () => {
    const items: ObjectListing[] = Array.from({ length: 5000 }, (_, i) => ({ name: `obj-${i}-${'é'.repeat(i % 7)}`, hash: 'd41d8cd98f00b204e9800998ecf8427e', bytes: i, contentType: 'application/octet-stream', lastModified: listingDate(`${1700000000 + i}.00000`) }));
    assert.deepEqual(renderContainerListing('json', 'c', items), Buffer.from(expectedContainerJson(items)));
    assert.deepEqual(renderContainerListing('plain', 'c', items), Buffer.from(items.map((i) => `${'name' in i ? i.name : ''}\n`).join('')));
  });

  it('account JSON, XML and plain text', () => {
    const items: ContainerListing[] = [{ name: 'c "1"', count: 2, bytes: 30, lastModified: listingDate('1700000000.5') }, { subdir: 'x/' }];
    assert.equal(renderAccountListing('json', 'AUTH_a', items).toString(), JSON.stringify([{ name: 'c "1"', count: 2, bytes: 30, last_modified: '2023-11-14T22:13:20.500000' }, { subdir: 'x/' }]));
    assert.equal(
      renderAccountListing('xml', 'AUTH_<a>', items).toString(),
      '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_&lt;a&gt;"><container><name>c &quot;1&quot;</name><count>2</count><bytes>30</bytes><last_modified>2023-11-14T22:13:20.500000</last_modified></container><subdir name="x/" /></account>',
    );
    assert.equal(renderAccountListing('plain', 'AUTH_a', items).toString(), 'c "1"\nx/\n');
    assert.equal(renderAccountListing('plain', 'AUTH_a', []).length, 0, 'an empty plain listing has no body (204)');
  });

  it('container XML escapes names, content types and subdirs', () => {
    const body = renderContainerListing('xml', 'c&d', [
      { name: '<a>&"b"', hash: 'h', bytes: 1, contentType: 'text/x; q="1"', lastModified: '2023-11-14T22:13:20.000000' },
      { subdir: 'd<1>/' },
    ]).toString();
    assert.equal(
      body,
      '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c&amp;d"><object><name>&lt;a&gt;&amp;&quot;b&quot;</name><hash>h</hash><bytes>1</bytes><content_type>text/x; q=&quot;1&quot;</content_type><last_modified>2023-11-14T22:13:20.000000</last_modified></object><subdir name="d&lt;1&gt;/"><name>d&lt;1&gt;/</name></subdir></container>',
    );
  });

  it('listingDate: microseconds, any second, unnormalized input', () => {
    assert.equal(listingDate('1700000000.12345'), '2023-11-14T22:13:20.123450');
    assert.equal(listingDate('1700000001.00001'), '2023-11-14T22:13:21.000010');
    assert.equal(listingDate('1700000000.12345'), '2023-11-14T22:13:20.123450');
    assert.equal(listingDate('1700000000.5'), '2023-11-14T22:13:20.500000');
    assert.equal(listingDate('1700000000'), '2023-11-14T22:13:20.000000');
    assert.equal(listingDate('0000000001.00000'), '1970-01-01T00:00:01.000000');
  });
});
