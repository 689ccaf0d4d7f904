import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildListFixture, type ListFixture, type Shown } from './list-fixtures.js';

const KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
type Key = (typeof KEYS)[number];
type Dir = 'asc' | 'desc';

/** Glance's order: NULL sorts as '' (or 0 for size); created_at then id break ties in the fallback direction. */
function expectedOrder(images: Shown[], terms: { key: Key; dir: Dir }[], fallback: Dir): string[] {
  const full = [...terms];
  for (const key of ['created_at', 'id'] as const) if (!terms.some((t) => t.key === key)) full.push({ key, dir: fallback });
  const value = (image: Shown, key: Key): string | number => (key === 'size' ? (image.size ?? 0) : ((image[key] as string | null) ?? ''));
  return [...images]
    .sort((a, b) => {
      for (const { key, dir } of full) {
        const x = value(a, key);
        const y = value(b, key);
        if (x !== y) return (x < y ? -1 : 1) * (dir === 'asc' ? 1 : -1);
      }
      return 0;
    })
    .map((i) => i.id);
}

describe('image list: sorting and paging (keyset pagination in SQL)', () => {
  let f: ListFixture;
  let universe: { label: string; query: string; token: string; images: Shown[] }[];
  before(async () => {
    f = await buildListFixture();
    universe = [
      { label: 'admin, visibility=all', query: 'visibility=all', token: f.admin, images: await f.all('visibility=all', f.admin) },
      { label: 'member', query: 'member_status=all', token: f.demo, images: await f.all('member_status=all', f.demo) },
      { label: 'admin, tag', query: 'tag=x86', token: f.admin, images: await f.all('tag=x86', f.admin) },
    ];
    assert.equal(universe[0]!.images.length, 11);
  });
  after(async () => f.t.close());

  const ids = (images: Shown[]) => images.map((i) => i.id);

  test('default order is created_at desc, id desc; pages of limit_param_default', async () => {
    const first = await f.t.request('GET', '/image/v2/images?visibility=all', { token: f.admin });
    assert.equal(first.json.images.length, 4, 'limit_param_default');
    assert.equal(first.json.first, '/v2/images?visibility=all');
    for (const u of universe) assert.deepEqual(ids(u.images), expectedOrder(u.images, [], 'desc'), u.label);
  });

  test('every sort key in both directions, both syntaxes, paged 1, 2 and 3 at a time', async () => {
    for (const u of universe) {
      for (const key of KEYS) {
        for (const dir of ['asc', 'desc'] as const) {
          const want = expectedOrder(u.images, [{ key, dir }], dir);
          assert.deepEqual(ids(await f.all(`${u.query}&sort_key=${key}&sort_dir=${dir}&limit=3`, u.token)), want, `${u.label}: sort_key=${key}&sort_dir=${dir}`);
          assert.deepEqual(ids(await f.all(`${u.query}&sort=${key}:${dir}&limit=2`, u.token)), want, `${u.label}: sort=${key}:${dir}`);
          if (key === 'name' || key === 'size') assert.deepEqual(ids(await f.all(`${u.query}&sort=${key}:${dir}&limit=1`, u.token)), want);
        }
        // sort=key alone is descending; sort_key alone too.
        const desc = expectedOrder(u.images, [{ key, dir: 'desc' }], 'desc');
        assert.deepEqual(ids(await f.all(`${u.query}&sort=${key}&limit=5`, u.token)), desc);
        assert.deepEqual(ids(await f.all(`${u.query}&sort_key=${key}&limit=5`, u.token)), desc);
      }
    }
  });

  test('every pair of sort keys with mixed directions', async () => {
    const u = universe[0]!;
    for (const k1 of KEYS) {
      for (const k2 of KEYS) {
        if (k1 === k2) continue;
        for (const [d1, d2] of [['asc', 'desc'], ['desc', 'asc']] as const) {
          const want = expectedOrder(u.images, [{ key: k1, dir: d1 }, { key: k2, dir: d2 }], 'desc');
          assert.deepEqual(ids(await f.all(`${u.query}&sort=${k1}:${d1},${k2}:${d2}&limit=4`, u.token)), want, `sort=${k1}:${d1},${k2}:${d2}`);
          assert.deepEqual(ids(await f.all(`${u.query}&sort_key=${k1}&sort_key=${k2}&sort_dir=${d1}&sort_dir=${d2}&limit=3`, u.token)), want);
        }
        // One sort_dir applies to every key and to the tie-breakers.
        const asc = expectedOrder(u.images, [{ key: k1, dir: 'asc' }, { key: k2, dir: 'asc' }], 'asc');
        assert.deepEqual(ids(await f.all(`${u.query}&sort_key=${k1}&sort_key=${k2}&sort_dir=asc&limit=3`, u.token)), asc, `sort_key=${k1}&sort_key=${k2}&sort_dir=asc`);
      }
    }
  });

  test('paging with filters and three sort keys keeps the filters in next links', async () => {
    const res = await f.t.request('GET', '/image/v2/images?tag=x86&tag=fast&limit=1', { token: f.admin });
    assert.equal(res.json.images.length, 1);
    assert.match(res.json.next, /tag=x86&tag=fast&limit=1&marker=/);
    const filtered = await f.all('visibility=all&size_min=0', f.admin);
    assert.deepEqual(ids(await f.all('visibility=all&size_min=0&sort=size:desc,name:asc,status:desc&limit=1', f.admin)),
      expectedOrder(filtered, [{ key: 'size', dir: 'desc' }, { key: 'name', dir: 'asc' }, { key: 'status', dir: 'desc' }], 'desc'));
  });

  test('marker: anchors the next page even outside the filter; unknown is 400, invisible is 403', async () => {
    const gamma = f.images.commGamma!.id;
    const anchored = await f.t.request('GET', `/image/v2/images?name=alpha&marker=${gamma}`, { token: f.admin });
    assert.equal(anchored.status, 200);
    assert.deepEqual(ids(anchored.json.images), [f.images.pubAlpha!.id]);
    const hidden = await f.t.request('GET', `/image/v2/images?marker=${f.images.privBeta!.id}`, { token: f.demo, headers: { accept: 'application/json' } });
    assert.equal(hidden.status, 403);
    assert.match(hidden.json.message, /not visible/);
    // A pending member may page from the shared image even though it is not listed by default.
    assert.equal((await f.t.request('GET', `/image/v2/images?marker=${f.images.sharedPending!.id}`, { token: f.demo })).status, 200);
  });

  test('limit: 0 gives nothing, above api_limit_max is clamped, a full last page still has next', async () => {
    const none = await f.t.request('GET', '/image/v2/images?limit=0', { token: f.admin });
    assert.deepEqual(none.json.images, []);
    assert.equal(none.json.next, undefined);
    const clamped = await f.t.request('GET', '/image/v2/images?visibility=all&limit=1000', { token: f.admin });
    assert.equal(clamped.json.images.length, 6, 'api_limit_max');
    assert.match(clamped.json.next, /limit=1000/);
    const shared = await f.t.request('GET', '/image/v2/images?visibility=shared&limit=3', { token: f.admin });
    assert.equal(shared.json.images.length, 3);
    assert.ok(shared.json.next, 'Glance links a next page whenever the page is full');
    const after = await f.t.request('GET', `/image${shared.json.next}`, { token: f.admin });
    assert.deepEqual(after.json.images, []);
    assert.equal(after.json.next, undefined);
    assert.equal(after.json.first, '/v2/images?visibility=shared&limit=3');
  });

  test('bad sort parameters: 400', async () => {
    const cases: [string, RegExp][] = [
      ['sort=name:asc&sort_key=name', /Old and new sorting syntax cannot be combined/],
      ['sort_key=bogus', /Invalid sort key: bogus. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at./],
      ['sort=tags:asc', /Invalid sort key: tags/],
      ['sort_dir=up', /Invalid sort direction: up/],
      ['sort=name:sideways', /Invalid sort direction: sideways/],
      ['sort=', /Invalid sort key: \./],
      ['sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc', /Number of sort dirs does not match the number of sort keys/],
    ];
    for (const [query, message] of cases) {
      const res = await f.t.request('GET', `/image/v2/images?${query}`, { token: f.admin, headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, query);
      assert.match(res.json.message, message, query);
    }
  });
});
