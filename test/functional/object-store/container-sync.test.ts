import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { startSwift, type SwiftCloud, type SwiftResponse } from './helpers.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Swift's container_sync signature (written out here independently of the server's code). */
function sign(method: string, path: string, ts: string, nonce: string, realmKey: string, userKey: string): string {
  return createHmac('sha1', realmKey).update([method, path, ts, nonce, userKey].join('\n')).digest('hex');
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('object-store: container sync', () => {
  let sw: SwiftCloud;
  let port: number;
  let other: { token: string; projectId: string };
  const realmKey = 'realm-secret';
  before(async () => {
    port = await freePort();
    sw = await startSwift({
      'server.bind': `127.0.0.1:${port}`,
      'object_store.container_sync_realms': `realm1: key=${realmKey} cluster_name1=self`,
      'object_store.container_sync_interval': 1,
    });
    await sw.t.cloud.app.listen({ host: '127.0.0.1', port });
    // a second project whose member owns the other account (as in Tempest, sync crosses accounts)
    const admin = sw.token;
    const role = (await sw.t.request('GET', '/identity/v3/roles?name=member', { token: admin })).json.roles[0].id as string;
    const project = (await sw.t.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name: 'p-sync', domain_id: 'default' } } })).json.project;
    const user = (await sw.t.request('POST', '/identity/v3/users', { token: admin, body: { user: { name: 'syncer', password: 'pw-syncer', domain_id: 'default' } } })).json.user;
    await sw.t.request('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${role}`, { token: admin });
    const login = await sw.t.login({ name: 'syncer', password: 'pw-syncer' }, { project: { id: project.id } });
    other = { token: login.token, projectId: project.id as string };
  });
  after(async () => sw?.close());

  const otherBase = () => `/object-store/v1/AUTH_${other.projectId}`;
  const listing = async (path: string, token?: string): Promise<Array<Record<string, unknown>>> => {
    const r = await sw.req('GET', `${path}?format=json`, token ? { token } : {});
    return r.status === 200 ? (JSON.parse(r.text) as Array<Record<string, unknown>>) : [];
  };

  test('X-Container-Sync-To is validated with Swift\'s 400 answers and nothing is stored', async () => {
    assert.equal((await sw.req('PUT', '/v-sync')).status, 201);
    const cases: Array<[string, string]> = [
      ['//realm1/name1/AUTH_a', "Invalid X-Container-Sync-To format '//realm1/name1/AUTH_a'"],
      ['//nope/name1/AUTH_a/c', "No realm key for 'nope'"],
      ['//realm1/far/AUTH_a/c', "No cluster endpoint for 'realm1' 'far'"],
      ['ftp://127.0.0.1/v1/AUTH_a/c', 'Invalid scheme \'ftp\' in X-Container-Sync-To, must be "//", "http", or "https".'],
      ['http://127.0.0.1', 'Path required in X-Container-Sync-To'],
      ['http://127.0.0.1/v1/AUTH_a/c?x=1', 'Params, queries, and fragments not allowed in X-Container-Sync-To'],
      ['http://10.1.2.3:8080/v1/AUTH_a/c', "Invalid host '10.1.2.3' in X-Container-Sync-To"],
      ['https://example.com/v1/AUTH_a/c', "Invalid host 'example.com' in X-Container-Sync-To"],
    ];
    for (const [value, message] of cases) {
      for (const method of ['POST', 'PUT']) {
        const r = await sw.req(method, '/v-sync', { headers: { 'x-container-sync-to': value, 'x-container-sync-key': 'k' } });
        assert.equal(r.status, 400, `${method} ${value}`);
        assert.equal(r.text, message);
      }
    }
    const head = await sw.req('HEAD', '/v-sync');
    assert.equal(head.headers['x-container-sync-to'], undefined);
    assert.equal(head.headers['x-container-sync-key'], undefined, 'a refused request changes nothing');
    assert.equal((await sw.req('PUT', '/v-new', { headers: { 'x-container-sync-to': 'http://192.168.1.1/v1/AUTH_a/c' } })).status, 400);
    assert.equal((await sw.req('HEAD', '/v-new')).status, 404, 'a refused PUT creates no container');
    // valid values of both kinds are stored and shown to the owner
    assert.equal((await sw.req('POST', '/v-sync', { headers: { 'x-container-sync-to': `http://localhost:${port}/object-store/v1/AUTH_x/c`, 'x-container-sync-key': 'k1' } })).status, 204);
    assert.equal((await sw.req('HEAD', '/v-sync')).headers['x-container-sync-to'], `http://localhost:${port}/object-store/v1/AUTH_x/c`);
    assert.equal((await sw.req('POST', '/v-sync', { headers: { 'x-container-sync-to': '//REALM1/Name1/AUTH_x/c' } })).status, 204);
    const after = await sw.req('HEAD', '/v-sync');
    assert.equal(after.headers['x-container-sync-to'], '//REALM1/Name1/AUTH_x/c');
    assert.equal(after.headers['x-container-sync-key'], 'k1');
    assert.equal((await sw.req('POST', '/v-sync', { headers: { 'x-remove-container-sync-to': 'x' } })).status, 204);
    assert.equal((await sw.req('HEAD', '/v-sync')).headers['x-container-sync-to'], undefined);
  });

  test('/info advertises the realms and clusters like Swift', async () => {
    const info = JSON.parse((await sw.req('GET', '/object-store/info', { token: null })).text) as { container_sync?: unknown };
    assert.deepEqual(info.container_sync, { realms: { REALM1: { clusters: { NAME1: {} } } } });
  });

  test('the sync key and target are shown to owners only; non-owners cannot set them', async () => {
    await sw.req('PUT', '/v-shared', { headers: { 'x-container-read': '*:*', 'x-container-write': '*:*', 'x-container-sync-to': '//realm1/name1/AUTH_x/c', 'x-container-sync-key': 'hidden' } });
    const asOther = await sw.req('HEAD', '/v-shared', { token: other.token });
    assert.equal(asOther.status, 204);
    assert.equal(asOther.headers['x-container-sync-key'], undefined);
    assert.equal(asOther.headers['x-container-sync-to'], undefined);
    const owner = await sw.req('HEAD', '/v-shared');
    assert.equal(owner.headers['x-container-sync-key'], 'hidden');
    await sw.req('POST', '/v-shared', { token: other.token, headers: { 'x-container-sync-key': 'mine' } });
    assert.equal((await sw.req('HEAD', '/v-shared')).headers['x-container-sync-key'], 'hidden');
  });

  test('receiving side: realm signatures and sync keys authorize writes, the sender\'s timestamp is kept', async () => {
    assert.equal((await sw.req('PUT', '/v-recv', { headers: { 'x-container-sync-key': 'recv-key' } })).status, 201);
    const path = `${sw.base}/v-recv/a%20b`;
    const ts = '1600000000.00001';
    const good = sign('PUT', path, ts, 'n1', realmKey, 'recv-key');
    const put = (auth: string, extra: Record<string, string> = {}): Promise<SwiftResponse> =>
      sw.req('PUT', path, { token: null, body: 'synced', headers: { 'x-timestamp': ts, 'x-container-sync-auth': auth, 'content-type': 'text/x-sync', 'x-object-meta-color': 'blue', ...extra } });
    const bad = await put(`realm1 n1 ${'0'.repeat(40)}`);
    assert.equal(bad.status, 401);
    assert.equal(bad.text, 'X-Container-Sync-Auth header not valid; contact cluster operator for support.');
    assert.match(String(bad.headers['www-authenticate']), /^SwiftContainerSync realm=/);
    assert.equal((await put(`realm1 n1 ${sign('PUT', path, ts, 'n1', realmKey, 'other-key')}`)).status, 401, 'the container key is part of the signature');
    assert.equal((await put(`nope n1 ${good}`)).status, 401, 'unknown realm');
    assert.equal((await put(`realm1 ${good}`)).status, 401, 'three fields');
    assert.equal((await put(`realm1 n1 ${good}`, { 'x-timestamp': '1600000000.00002' })).status, 401, 'the timestamp is signed');
    assert.equal((await sw.req('HEAD', '/v-recv/a b')).status, 404, 'nothing was written by refused requests');
    assert.equal((await put(`realm1 n1 ${good}`)).status, 201);
    const got = await sw.req('GET', '/v-recv/a b');
    assert.equal(got.text, 'synced');
    assert.equal(got.headers['x-timestamp'], ts);
    assert.equal(got.headers['content-type'], 'text/x-sync');
    assert.equal(got.headers['x-object-meta-color'], 'blue');
    assert.equal((await listing(`${sw.base}/v-recv`))[0]!.last_modified, '2020-09-13T12:26:40.000010');
    // an older write changes nothing (202, as Swift's proxy answers a timestamp conflict)
    const olderTs = '1500000000.00000';
    const older = await sw.req('PUT', path, { token: null, body: 'old', headers: { 'x-timestamp': olderTs, 'x-container-sync-auth': `realm1 n2 ${sign('PUT', path, olderTs, 'n2', realmKey, 'recv-key')}` } });
    assert.equal(older.status, 202);
    assert.equal((await sw.req('GET', '/v-recv/a b')).text, 'synced');
    // full-URL style: X-Container-Sync-Key plus X-Timestamp
    const keyed = (key: string, withTs = true) => sw.req('PUT', `${sw.base}/v-recv/k`, { token: null, body: 'by-key', headers: { 'x-container-sync-key': key, ...(withTs ? { 'x-timestamp': '1600000001.00000' } : {}) } });
    assert.equal((await keyed('wrong')).status, 401, 'a wrong key is no credential');
    assert.equal((await keyed('recv-key', false)).status, 401, 'keystoneauth wants X-Timestamp with the key');
    assert.equal((await keyed('recv-key')).status, 201);
    assert.equal((await sw.req('HEAD', '/v-recv/k')).headers['x-timestamp'], '1600000001.00000');
    // signed HEAD and DELETE
    const delTs = '1600000002.00000';
    const del = await sw.req('DELETE', path, { token: null, headers: { 'x-timestamp': delTs, 'x-container-sync-auth': `realm1 n3 ${sign('DELETE', path, delTs, 'n3', realmKey, 'recv-key')}` } });
    assert.equal(del.status, 204);
    assert.equal((await sw.req('HEAD', '/v-recv/a b')).status, 404);
    // a container without a sync key accepts no sync credentials
    await sw.req('PUT', '/v-nokey');
    const p2 = `${sw.base}/v-nokey/o`;
    assert.equal((await sw.req('PUT', p2, { token: null, body: 'x', headers: { 'x-timestamp': ts, 'x-container-sync-auth': `realm1 n1 ${sign('PUT', p2, ts, 'n1', realmKey, '')}` } })).status, 401);
  });

  test('the daemon syncs puts, updates and deletes across accounts (realm), keeping timestamps', async () => {
    const src = `${sw.base}/sync-a`;
    const dst = `${otherBase()}/sync-b`;
    assert.equal((await sw.req('PUT', dst, { token: other.token, headers: { 'x-container-sync-key': 'shared' } })).status, 201);
    assert.equal((await sw.req('PUT', src, { headers: { 'x-container-sync-key': 'shared', 'x-container-sync-to': `//realm1/name1/AUTH_${other.projectId}/sync-b` } })).status, 201);
    await sw.req('PUT', `${src}/one`, { body: 'first', headers: { 'content-type': 'text/plain', 'x-object-meta-k': 'v' } });
    await sw.req('PUT', `${src}/dir/two ü`, { body: 'second' });
    await sw.req('PUT', `${src}/gone`, { body: 'x' });
    await sw.req('DELETE', `${src}/gone`);
    const same = async () => JSON.stringify(await listing(src)) === JSON.stringify(await listing(dst, other.token));
    await until('the first sync', same);
    const one = await sw.req('GET', `${dst}/one`, { token: other.token });
    assert.equal(one.text, 'first');
    assert.equal(one.headers['content-type'], 'text/plain');
    assert.equal(one.headers['x-object-meta-k'], 'v');
    assert.equal(one.headers['x-timestamp'], (await sw.req('HEAD', `${src}/one`)).headers['x-timestamp']);
    assert.equal((await sw.req('GET', `${dst}/dir/two ü`, { token: other.token })).text, 'second');
    // update and delete
    await sw.req('PUT', `${src}/one`, { body: 'first, again' });
    await sw.req('DELETE', `${src}/dir/two ü`);
    // the listings too: a HEAD can see the tombstone a moment before the listing drops the row
    await until(
      'the update and the delete',
      async () => (await sw.req('GET', `${dst}/one`, { token: other.token })).text === 'first, again' && (await sw.req('HEAD', `${dst}/dir/two ü`, { token: other.token })).status === 404 && (await same()),
    );
  });

  test('two-way sync with a full URL and the sync key: both containers end up equal', async () => {
    const a = `${sw.base}/tw-a`;
    const b = `${sw.base}/tw-b`;
    const url = (c: string) => `http://127.0.0.1:${port}${c}`;
    await sw.req('PUT', a, { headers: { 'x-container-sync-key': 'two-way', 'x-container-sync-to': url(b) } });
    await sw.req('PUT', b, { headers: { 'x-container-sync-key': 'two-way', 'x-container-sync-to': url(a) } });
    await sw.req('PUT', `${a}/from-a`, { body: 'A' });
    await sw.req('PUT', `${b}/from-b`, { body: 'B' });
    await until('both objects on both sides', async () => {
      const [la, lb] = [await listing(a), await listing(b)];
      return la.length === 2 && JSON.stringify(la) === JSON.stringify(lb);
    });
    assert.equal((await sw.req('GET', `${b}/from-a`)).text, 'A');
    assert.equal((await sw.req('GET', `${a}/from-b`)).text, 'B');
  });

  test('a target that is not loopback cannot be set, so the daemon never leaves the machine', async () => {
    for (const host of ['169.254.169.254', '10.0.0.1', 'metadata.google.internal', '[fe80::1]']) {
      const r = await sw.req('PUT', '/v-far', { headers: { 'x-container-sync-to': `http://${host}/v1/AUTH_a/c`, 'x-container-sync-key': 'k' } });
      assert.equal(r.status, 400, host);
      assert.match(r.text, /^Invalid host/);
    }
  });
});
