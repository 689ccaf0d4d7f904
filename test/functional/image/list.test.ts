import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildListFixture, type ListFixture } from './list-fixtures.js';

const sorted = (xs: string[]) => [...xs].sort();

describe('image list: visibility rules and filters (in SQL)', () => {
  let f: ListFixture;
  let pending: string;
  before(async () => {
    f = await buildListFixture();
    pending = f.images.sharedPending!.id;
  });
  after(async () => f.t.close());

  test('visibility: admin sees every image but others\' community ones unless asked; hidden only on request', async () => {
    const everyAdmin = ['a,b', 'alpha', 'alpha', 'beta', 'delta', 'demo-own', 'epsilon', 'gamma', 'ns:thing', pending];
    assert.deepEqual(await f.names('', f.admin), sorted(everyAdmin));
    assert.deepEqual(await f.names('visibility=all', f.admin), sorted([...everyAdmin, 'demo-comm']));
    assert.deepEqual(await f.names('visibility=community', f.admin), ['demo-comm', 'gamma']);
    assert.deepEqual(await f.names('visibility=public', f.admin), ['alpha', 'alpha']);
    assert.deepEqual(await f.names('visibility=private', f.admin), ['a,b', 'beta', 'demo-own', 'ns:thing']);
    assert.deepEqual(await f.names('visibility=shared', f.admin), sorted(['delta', 'epsilon', pending]));
    assert.deepEqual(await f.names('os_hidden=true', f.admin), ['zeta']);
    assert.deepEqual(await f.names('os_hidden=TRUE&visibility=public', f.admin), ['zeta']);
    assert.deepEqual(await f.names('os_hidden=false&visibility=public', f.admin), ['alpha', 'alpha']);
  });

  test('visibility: a member sees public, its own (community too) and shared images it accepted', async () => {
    assert.deepEqual(await f.names('', f.demo), ['alpha', 'alpha', 'delta', 'demo-comm', 'demo-own']);
    assert.deepEqual(await f.names('member_status=pending', f.demo), sorted(['alpha', 'alpha', 'demo-comm', 'demo-own', pending]));
    assert.deepEqual(await f.names('member_status=rejected', f.demo), ['alpha', 'alpha', 'demo-comm', 'demo-own', 'epsilon']);
    assert.deepEqual(await f.names('member_status=all', f.demo), sorted(['alpha', 'alpha', 'delta', 'demo-comm', 'demo-own', 'epsilon', pending]));
    assert.deepEqual(await f.names('visibility=shared', f.demo), ['delta']);
    assert.deepEqual(await f.names('visibility=shared&member_status=all', f.demo), sorted(['delta', 'epsilon', pending]));
    assert.deepEqual(await f.names('visibility=community', f.demo), ['demo-comm', 'gamma']);
    assert.deepEqual(await f.names('visibility=private', f.demo), ['demo-own']);
    assert.deepEqual(await f.names('visibility=all', f.demo), ['alpha', 'alpha', 'delta', 'demo-comm', 'demo-own', 'gamma']);
    assert.deepEqual(await f.names('os_hidden=true', f.demo), ['zeta']);
    // Admin's member_status is irrelevant: it sees every shared image.
    assert.deepEqual(await f.names('visibility=shared&member_status=rejected', f.admin), sorted(['delta', 'epsilon', pending]));
  });

  test('name, status, formats and id with eq:/in: operators and quoted lists', async () => {
    assert.deepEqual(await f.names('name=alpha', f.admin), ['alpha', 'alpha']);
    assert.deepEqual(await f.names('name=eq:alpha', f.admin), ['alpha', 'alpha']);
    assert.deepEqual(await f.names('name=in:alpha,beta', f.admin), ['alpha', 'alpha', 'beta']);
    assert.deepEqual(await f.names(`name=${encodeURIComponent('in:"a,b",beta')}`, f.admin), ['a,b', 'beta']);
    assert.deepEqual(await f.names('name=eq:ns:thing', f.admin), ['ns:thing']);
    assert.deepEqual(await f.names('name=', f.admin), []);
    assert.deepEqual(await f.names('status=active', f.admin), ['alpha', 'beta', 'demo-own']);
    assert.deepEqual(await f.names('status=in:active,queued&name=alpha', f.admin), ['alpha', 'alpha']);
    assert.deepEqual(await f.names('disk_format=qcow2', f.admin), ['beta', 'demo-own']);
    assert.deepEqual(await f.names('disk_format=in:iso,vmdk', f.admin), ['delta', 'gamma']);
    assert.deepEqual(await f.names('container_format=ovf', f.admin), ['gamma']);
    assert.deepEqual(await f.names('container_format=in:ovf,bare&disk_format=raw', f.admin), ['alpha', 'alpha']);
    const { pubAlpha, privBeta } = f.images;
    assert.deepEqual(await f.names(`id=in:${pubAlpha!.id},${privBeta!.id}`, f.admin), ['alpha', 'beta']);
    assert.deepEqual(await f.names(`id=${privBeta!.id}`, f.demo), [], 'a filter never reveals an invisible image');
    for (const bad of ['name=like:alpha', 'status=ne:active', `name=${encodeURIComponent('in:"a,b')}`, `name=${encodeURIComponent('in:x"a",b')}`]) {
      assert.equal((await f.t.request('GET', `/image/v2/images?${bad}`, { token: f.admin })).status, 400, bad);
    }
  });

  test('owner, checksum, hashes, numeric columns, protected and custom properties', async () => {
    assert.deepEqual(await f.names(`owner=${f.demoProject}`, f.admin), ['demo-own'], 'others\' community images stay hidden');
    assert.deepEqual(await f.names(`owner=${f.demoProject}&visibility=all`, f.admin), ['demo-comm', 'demo-own']);
    const md5 = createHash('md5').update(Buffer.alloc(100, 1)).digest('hex');
    assert.deepEqual(await f.names(`checksum=${md5}`, f.admin), ['beta']);
    assert.deepEqual(await f.names(`os_hash_value=${f.images.demoOwn!.os_hash_value}`, f.demo), ['demo-own']);
    assert.deepEqual(await f.names('os_hash_algo=sha512', f.admin), ['alpha', 'beta', 'demo-own']);
    assert.deepEqual(await f.names('size=300', f.admin), ['demo-own']);
    assert.deepEqual(await f.names('size=lots', f.admin), []);
    assert.deepEqual(await f.names('size=99999999999999999999', f.admin), []);
    assert.deepEqual(await f.names('min_ram=512', f.admin), ['alpha']);
    assert.deepEqual(await f.names('virtual_size=200', f.admin), ['alpha']);
    assert.deepEqual(await f.names('protected=true', f.admin), ['alpha']);
    assert.equal((await f.names('protected=false', f.admin)).length, 9);
    assert.deepEqual(await f.names('os_distro=ubuntu', f.admin), ['alpha']);
    assert.deepEqual(await f.names('os_distro=debian', f.demo), []);
    assert.deepEqual(await f.names(`${encodeURIComponent('com.example:key.x')}=${encodeURIComponent('v"1')}`, f.admin), ['alpha']);
    assert.deepEqual(await f.names('os_distro=ubuntu&name=beta', f.admin), []);
    assert.deepEqual(await f.names('no_such_property=x', f.admin), []);
    assert.deepEqual(await f.names('deleted=true', f.admin), await f.names('', f.admin), 'lists never show deleted images');
  });

  test('tags: every given tag must be on the image', async () => {
    assert.deepEqual(await f.names('tag=x86', f.admin), ['alpha', 'beta']);
    assert.deepEqual(await f.names('tag=x86&tag=fast', f.admin), ['alpha']);
    assert.deepEqual(await f.names('tag=x86&tag=nope', f.admin), []);
    assert.deepEqual(await f.names('tag=x86', f.demo), ['alpha']);
    assert.deepEqual(await f.names('tag=x86&status=queued', f.admin), ['alpha']);
  });

  test('size_min/size_max and other ranges', async () => {
    assert.deepEqual(await f.names('size_min=150', f.admin), ['alpha', 'demo-own']);
    assert.deepEqual(await f.names('size_max=150', f.admin), ['beta']);
    assert.deepEqual(await f.names('size_min=100&size_max=200', f.admin), ['alpha', 'beta']);
    assert.deepEqual(await f.names('size_min=301', f.admin), []);
    assert.deepEqual(await f.names('size_min=99999999999999999999', f.admin), []);
    assert.deepEqual(await f.names('size_max=99999999999999999999', f.admin), ['alpha', 'beta', 'demo-own']);
    assert.deepEqual(await f.names('min_ram_min=1', f.admin), ['alpha']);
    assert.deepEqual(await f.names('min_ram_max=0&name=alpha', f.admin), ['alpha']);
    for (const bad of ['size_min=abc', 'size_max=1.5', 'size_min=', 'name_min=3']) {
      const res = await f.t.request('GET', `/image/v2/images?${bad}`, { token: f.admin, headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, bad);
      assert.equal(res.json.code, '400 Bad Request');
    }
  });

  test('created_at/updated_at with gt/gte/lt/lte/eq/neq at whole seconds', async () => {
    const at = (role: string) => f.images[role]!.created_at as string;
    const q = (expr: string) => `created_at=${encodeURIComponent(expr)}&visibility=all`;
    const gamma = at('commGamma');
    const pendingAt = at('sharedPending'); // created at .5 s: shown and compared as its whole second
    assert.match(pendingAt, /:\d\dZ$/);
    assert.deepEqual(await f.names(q(`eq:${pendingAt}`), f.admin), [pending]);
    assert.deepEqual(await f.names(q(pendingAt), f.admin), [pending], 'a bare ISO time means eq');
    assert.deepEqual(await f.names(q(`eq:${pendingAt.replace('Z', '.5Z')}`), f.admin), [], 'no stored time has a fraction');
    assert.deepEqual(await f.names(q(`lte:${gamma}`), f.admin), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(await f.names(q(`lt:${gamma}`), f.admin), ['alpha', 'beta']);
    assert.deepEqual(await f.names(q(`lt:${gamma.replace('Z', '.1Z')}`), f.admin), ['alpha', 'beta', 'gamma']);
    const last = at('colonName');
    assert.deepEqual(await f.names(q(`gte:${last}`), f.admin), ['ns:thing']);
    assert.deepEqual(await f.names(q(`gt:${at('commaName')}`), f.admin), ['ns:thing']);
    assert.deepEqual(await f.names(q(`gt:${last}`), f.admin), []);
    assert.equal((await f.names(q(`neq:${gamma}`), f.admin)).length, 10);
    // The same instant written in another zone.
    const plusOne = new Date(Date.parse(gamma) + 3600_000).toISOString().replace(/\.000Z$/, '+01:00');
    assert.deepEqual(await f.names(q(`eq:${plusOne}`), f.admin), ['gamma']);
    assert.deepEqual(await f.names(q('lt:2030-01-01'), f.admin), []);
    assert.deepEqual(await f.names(`updated_at=${encodeURIComponent(`gte:${f.images.pubAlpha2!.updated_at}`)}`, f.admin), ['a,b', 'alpha', 'ns:thing']);
    for (const bad of ['lt:invalid_value', 'invalid_operator:2015-11-19T12:24:02Z', 'gt:2015-13-40T00:00:00Z', 'gt:']) {
      for (const key of ['created_at', 'updated_at']) {
        const res = await f.t.request('GET', `/image/v2/images?${key}=${encodeURIComponent(bad)}`, { token: f.admin });
        assert.equal(res.status, 400, `${key}=${bad}`);
      }
    }
  });

  test('images in killed (or deleted) status are never listed', async () => {
    const id = (await f.t.request('POST', '/image/v2/images', { token: f.admin, body: { name: 'doomed' } })).json.id as string;
    assert.deepEqual(await f.names('name=doomed', f.admin), ['doomed']);
    await f.t.cloud.db.typed<{ image_images: { id: string; status: string } }>().updateTable('image_images').set({ status: 'killed' }).where('id', '=', id).execute();
    assert.deepEqual(await f.names('name=doomed', f.admin), []);
    assert.deepEqual(await f.names('name=doomed&status=killed', f.admin), []);
    assert.equal((await f.t.request('DELETE', `/image/v2/images/${id}`, { token: f.admin })).status, 204);
  });

  test('bad parameters: 400 with Glance\'s messages', async () => {
    const cases: [string, RegExp][] = [
      ['visibility=everyone', /Invalid visibility value: everyone/],
      ['member_status=maybe', /Invalid status: maybe/],
      ['os_hidden=maybe', /Invalid value 'maybe' for 'os_hidden' filter/],
      ['protected=yes', /Invalid value 'yes' for 'protected' filter/],
      ['changes-since=2020-01-01T00:00:00Z', /changes-since/],
      ['limit=abc', /limit param must be an integer/],
      ['limit=-1', /limit param must be positive/],
      ['name=%FF', /could not be decoded/],
      ['marker=00000000-0000-4000-8000-000000000000', /No image found with ID 00000000-0000-4000-8000-000000000000/],
      [`marker=${'x'.repeat(300)}`, /No image found with ID/],
    ];
    for (const [query, message] of cases) {
      const res = await f.t.request('GET', `/image/v2/images?${query}`, { token: f.admin, headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, query);
      assert.match(res.json.message, message, query);
      assert.equal(res.json.title, 'Bad Request');
    }
  });
});
