import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const NS = '/image/v2/metadefs/namespaces';

describe('image metadata definitions (metadefs)', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
    demo = (await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } })).token;
  });
  after(async () => t.close());

  test('resource types are seeded; every schema document is served with its Glance name', async () => {
    const types = await t.request('GET', '/image/v2/metadefs/resource_types', { token: demo });
    assert.equal(types.status, 200);
    const names = types.json.resource_types.map((r: { name: string }) => r.name);
    assert.ok(names.includes('OS::Glance::Image') && names.includes('OS::Nova::Flavor'), names.join());
    const expected: Record<string, string> = {
      namespace: 'namespace', namespaces: 'namespaces', resource_type: 'resource_type_association', resource_types: 'resource_type_associations',
      object: 'object', objects: 'objects', property: 'property', properties: 'properties', tag: 'tag', tags: 'tags',
    };
    for (const [path, name] of Object.entries(expected)) {
      const res = await t.request('GET', `/image/v2/schemas/metadefs/${path}`, { token: demo });
      assert.equal(res.status, 200, path);
      assert.equal(res.json.name, name);
    }
  });

  test('namespace lifecycle: create with nested content, protected delete is 403, visibility hides private ones', async () => {
    const created = await t.request('POST', NS, {
      token: admin,
      body: {
        namespace: 'Test::Full', display_name: 'Full', description: 'd', visibility: 'public', protected: true,
        resource_type_associations: [{ name: 'OS::Glance::Image', prefix: 'hw_' }],
        properties: { cpu: { title: 'CPU', type: 'integer', minimum: 1 } },
        objects: [{ name: 'Obj', properties: { speed: { title: 'Speed', type: 'string' } }, required: ['speed'] }],
        tags: [{ name: 'alpha' }],
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.location, '/v2/metadefs/namespaces/Test::Full');
    assert.equal(created.json.self, '/v2/metadefs/namespaces/Test::Full');
    const shown = await t.request('GET', `${NS}/Test::Full`, { token: demo });
    assert.equal(shown.status, 200);
    assert.deepEqual(Object.keys(shown.json.properties), ['cpu']);
    assert.equal(shown.json.objects[0].name, 'Obj');
    assert.deepEqual(shown.json.tags, [{ name: 'alpha' }]);
    assert.equal(shown.json.resource_type_associations[0].prefix, 'hw_');
    const prefixed = await t.request('GET', `${NS}/Test::Full?resource_type=OS::Glance::Image`, { token: demo });
    assert.deepEqual(Object.keys(prefixed.json.properties), ['hw_cpu']);
    assert.deepEqual(prefixed.json.objects[0].required, ['hw_speed']);
    const prop = await t.request('GET', `${NS}/Test::Full/properties/hw_cpu?resource_type=OS::Glance::Image`, { token: demo });
    assert.equal(prop.json.name, 'cpu');
    assert.equal((await t.request('GET', `${NS}/Test::Full/properties/cpu?resource_type=OS::Glance::Image`, { token: demo })).status, 404);

    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'Test::Full' } })).status, 409);
    assert.equal((await t.request('DELETE', `${NS}/Test::Full`, { token: admin })).status, 403);
    assert.equal((await t.request('DELETE', `${NS}/Test::Full/objects/Obj`, { token: admin })).status, 403);
    assert.equal((await t.request('DELETE', `${NS}/Test::Full`, { token: demo })).status, 403);

    const updated = await t.request('PUT', `${NS}/Test::Full`, { token: admin, body: { namespace: 'Test::Full', visibility: 'private', protected: false } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.json.visibility, 'private');
    assert.equal(updated.json.protected, false);
    assert.equal((await t.request('GET', `${NS}/Test::Full`, { token: demo })).status, 404);
    const listed = (await t.request('GET', NS, { token: demo })).json.namespaces.map((n: { namespace: string }) => n.namespace);
    assert.ok(!listed.includes('Test::Full'));
    assert.equal((await t.request('DELETE', `${NS}/Test::Full`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `${NS}/Test::Full`, { token: admin })).status, 404);
  });

  test('bad input is refused with 400/403 and changes nothing', async () => {
    assert.equal((await t.request('POST', NS, { token: admin, body: { display_name: 'no namespace' } })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'x', visibility: 'shared' } })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'x', bogus: 1 } })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'x', created_at: 'now' } })).status, 403);
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'y'.repeat(81) } })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin, rawBody: '{"namespace":', headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin })).status, 400);
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'dup-tags', tags: [{ name: 'A' }, { name: 'a' }] } })).status, 409);
    assert.equal((await t.request('GET', `${NS}/dup-tags`, { token: admin })).status, 404);
    assert.equal((await t.request('GET', `${NS}?limit=abc`, { token: admin })).status, 400);
    assert.equal((await t.request('GET', `${NS}?sort_dir=up`, { token: admin })).status, 400);
    assert.equal((await t.request('GET', `${NS}?visibility=shared`, { token: admin })).status, 400);
    assert.equal((await t.request('GET', `${NS}?sort_key=bogus`, { token: admin })).status, 400);
    const listed = (await t.request('GET', NS, { token: admin })).json.namespaces.map((n: { namespace: string }) => n.namespace);
    assert.deepEqual(listed.filter((n: string) => ['x', 'dup-tags'].includes(n)), []);
  });

  test('objects, properties and tags: CRUD, renames, duplicates 409, non-admin writes 403', async () => {
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'Test::Parts', visibility: 'public' } })).status, 201);
    const base = `${NS}/Test::Parts`;
    const obj = await t.request('POST', `${base}/objects`, { token: admin, body: { name: 'o1', description: 'first' } });
    assert.equal(obj.status, 201, obj.text);
    assert.equal(obj.json.schema, '/v2/schemas/metadefs/object');
    assert.equal((await t.request('POST', `${base}/objects`, { token: admin, body: { name: 'o1' } })).status, 409);
    assert.equal((await t.request('POST', `${base}/objects`, { token: demo, body: { name: 'o2' } })).status, 403);
    const renamed = await t.request('PUT', `${base}/objects/o1`, { token: admin, body: { name: 'o1-new' } });
    assert.equal(renamed.json.name, 'o1-new');
    const objects = await t.request('GET', `${base}/objects`, { token: demo });
    assert.deepEqual(objects.json.objects.map((o: { name: string }) => o.name), ['o1-new']);
    assert.equal(objects.json.schema, 'v2/schemas/metadefs/objects');

    const prop = await t.request('POST', `${base}/properties`, { token: admin, body: { name: 'p1', title: 'P1', type: 'string', enum: ['a', 'b'] } });
    assert.equal(prop.status, 201, prop.text);
    assert.deepEqual(prop.json, { name: 'p1', title: 'P1', type: 'string', enum: ['a', 'b'] });
    assert.equal((await t.request('POST', `${base}/properties`, { token: admin, body: { name: 'p2', type: 'string' } })).status, 400);
    assert.equal((await t.request('POST', `${base}/properties`, { token: admin, body: { name: 'p2', title: 'x', type: 'texty' } })).status, 400);
    const updatedProp = await t.request('PUT', `${base}/properties/p1`, { token: admin, body: { name: 'p1', title: 'Renamed', type: 'string' } });
    assert.equal(updatedProp.json.title, 'Renamed');
    assert.deepEqual(Object.keys((await t.request('GET', `${base}/properties`, { token: demo })).json.properties), ['p1']);
    assert.equal((await t.request('DELETE', `${base}/properties/p1`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `${base}/properties/p1`, { token: admin })).status, 404);

    const tags = await t.request('POST', `${base}/tags`, { token: admin, body: { tags: [{ name: 't1' }, { name: 't2' }] } });
    assert.equal(tags.status, 201, tags.text);
    assert.equal((await t.request('POST', `${base}/tags/T1`, { token: admin })).status, 409);
    assert.equal((await t.request('POST', `${base}/tags/t3`, { token: admin })).status, 201);
    const appended = await t.request('POST', `${base}/tags`, { token: admin, body: { tags: [{ name: 't4' }] }, headers: { 'x-openstack-append': 'true' } });
    assert.equal(appended.status, 201);
    assert.equal((await t.request('GET', `${base}/tags`, { token: demo })).json.tags.length, 4);
    assert.equal((await t.request('PUT', `${base}/tags/t1`, { token: admin, body: { name: 'renamed' } })).json.name, 'renamed');
    assert.equal((await t.request('GET', `${base}/tags/renamed`, { token: demo })).status, 200);
    const replaced = await t.request('POST', `${base}/tags`, { token: admin, body: { tags: [{ name: 'only' }] } });
    assert.deepEqual(replaced.json.tags, [{ name: 'only' }]);
    assert.deepEqual((await t.request('GET', `${base}/tags`, { token: demo })).json.tags, [{ name: 'only' }]);
    assert.equal((await t.request('DELETE', `${base}/tags`, { token: admin })).status, 204);
    assert.deepEqual((await t.request('GET', `${base}/tags`, { token: demo })).json.tags, []);
  });

  test('resource type associations: first use creates the type; dissociate; unknown ones 404', async () => {
    assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: 'Test::Types' } })).status, 201);
    const base = `${NS}/Test::Types/resource_types`;
    const assoc = await t.request('POST', base, { token: admin, body: { name: 'OS::Custom::Thing', prefix: 'c_' } });
    assert.equal(assoc.status, 201, assoc.text);
    assert.equal(assoc.json.name, 'OS::Custom::Thing');
    assert.equal((await t.request('POST', base, { token: admin, body: { name: 'OS::Custom::Thing' } })).status, 409);
    const types = (await t.request('GET', '/image/v2/metadefs/resource_types', { token: admin })).json.resource_types.map((r: { name: string }) => r.name);
    assert.ok(types.includes('OS::Custom::Thing'));
    const filtered = await t.request('GET', `${NS}?resource_types=OS::Custom::Thing`, { token: admin });
    assert.deepEqual(filtered.json.namespaces.map((n: { namespace: string }) => n.namespace), ['Test::Types']);
    assert.equal((await t.request('GET', base, { token: admin })).json.resource_type_associations.length, 1);
    assert.equal((await t.request('DELETE', `${base}/OS::Custom::Thing`, { token: admin })).status, 204);
    assert.equal((await t.request('DELETE', `${base}/OS::Custom::Thing`, { token: admin })).status, 404);
    assert.equal((await t.request('DELETE', `${base}/OS::Nope`, { token: admin })).status, 404);
    assert.deepEqual((await t.request('GET', base, { token: admin })).json.resource_type_associations, []);
  });

  test('namespace pages: limit and marker give next links', async () => {
    for (const n of ['Page::A', 'Page::B', 'Page::C']) assert.equal((await t.request('POST', NS, { token: admin, body: { namespace: n, visibility: 'public' } })).status, 201);
    const first = await t.request('GET', `${NS}?limit=2&sort_key=namespace&sort_dir=asc&resource_types=`, { token: admin });
    assert.equal(first.status, 200);
    const page1 = await t.request('GET', `${NS}?limit=1&sort_key=namespace&sort_dir=desc`, { token: admin });
    assert.equal(page1.json.namespaces.length, 1);
    assert.match(page1.json.next, /marker=/);
    const page2 = await t.request('GET', `/image${page1.json.next}`, { token: admin });
    assert.equal(page2.status, 200);
    assert.notEqual(page2.json.namespaces[0].namespace, page1.json.namespaces[0].namespace);
    assert.equal((await t.request('GET', `${NS}?marker=Nope::Nope`, { token: admin })).status, 404);
  });
});
