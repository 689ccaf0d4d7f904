import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { runStoreContract } from '../../../src/services/image/stores/contract.test-suite.js';
import { SwiftImageStore } from '../../../src/services/image/stores/object-store.js';
import { SwiftClient, provisionServiceUser } from '../../../src/services/image/stores/swift-client.js';
import { InProcessHttp } from '../../../src/services/image/stores/in-process-http.js';

/**
 * The swift store against the cloud's own object-store API: the same contract as the
 * filesystem store, with 64 KiB segments so that images span several segments.
 */
describe('swift image store', () => {
  let t: TestCloud;
  let http: InProcessHttp;
  let client: SwiftClient;
  let containers = 0;
  const SEGMENT = 65536;

  before(async () => {
    t = await startTestCloud();
    http = new InProcessHttp();
    http.attach(t.cloud.app);
    const password = 'swift-store-test-pw';
    client = new SwiftClient(http.request, {
      user: 'glance-test',
      project: 'service',
      domain: 'default',
      password: async () => password,
      provision: (pw) => provisionServiceUser(http.request, { password: ADMIN_PASSWORD, domain: 'default' }, { user: 'glance-test', project: 'service', domain: 'default', password: pw }),
    });
  });
  after(async () => t.close());

  describe('contract', () => {
    runStoreContract('swift', async () => ({ store: new SwiftImageStore(client, `images${++containers}`, SEGMENT), cleanup: async () => undefined }));
  });

  test('images are static large objects in the service account, segments in <container>_segments', async () => {
    const store = new SwiftImageStore(client, 'layout', SEGMENT);
    await store.put('img', Readable.from([Buffer.alloc(SEGMENT * 2 + 5, 1)]));
    // The images belong to the service project's account: the admin of another project is refused.
    const admin = await t.adminToken();
    const service = await t.request('GET', '/identity/v3/projects?name=service', { token: admin });
    const account = `/object-store/v1/AUTH_${service.json.projects[0].id}`;
    assert.equal((await t.cloud.app.inject({ method: 'GET', url: `${account}/layout`, headers: { 'x-auth-token': admin } })).statusCode, 403);
    const glance = await t.login({ name: 'glance-test', password: 'swift-store-test-pw' }, { project: { name: 'service', domain: { id: 'default' } } });
    const token = glance.token;
    const manifest = await t.cloud.app.inject({ method: 'GET', url: `${account}/layout/img?multipart-manifest=get`, headers: { 'x-auth-token': token } });
    assert.equal(manifest.statusCode, 200);
    assert.equal(manifest.headers['x-static-large-object'], 'True');
    const segments = JSON.parse(manifest.body) as { name: string; bytes: number }[];
    assert.deepEqual(segments.map((s) => s.bytes), [SEGMENT, SEGMENT, 5]);
    assert.ok(segments.every((s) => s.name.startsWith('/layout_segments/img/')));

    // Replacing the image removes the old segments once the new manifest is in place.
    await store.put('img', Readable.from([Buffer.from('v2')]));
    const listing = await t.cloud.app.inject({ method: 'GET', url: `${account}/layout_segments?format=json`, headers: { 'x-auth-token': token } });
    assert.equal((JSON.parse(listing.body) as unknown[]).length, 1);
    await store.delete('img');
    const empty = await t.cloud.app.inject({ method: 'GET', url: `${account}/layout_segments?format=json`, headers: { 'x-auth-token': token } });
    assert.equal((JSON.parse(empty.body) as unknown[]).length, 0);
  });

  test('the service user is created once and then logs in', async () => {
    const admin = await t.adminToken();
    const users = await t.request('GET', '/identity/v3/users?name=glance-test', { token: admin });
    assert.equal(users.json.users.length, 1);
  });

  test('cleanupPartial keeps fresh unreferenced segments (an upload may still be running)', async () => {
    const store = new SwiftImageStore(client, 'partial', SEGMENT);
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(SEGMENT + 1, 2));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.put('x', failing));
    assert.equal(await store.stat('x'), null);
    assert.equal(await store.cleanupPartial(), 0);
  });
});
