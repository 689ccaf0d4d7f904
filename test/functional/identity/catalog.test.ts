import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: catalog (regions, services, endpoints, OS-EP-FILTER)', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let demoProjectId: string;

  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    demoProjectId = login.json.token.project.id;
  });
  after(async () => {
    await t.close();
  });

  const post = (path: string, body: unknown, token = admin) => t.request('POST', `${V3}${path}`, { token, body });
  const get = (path: string, token = admin) => t.request('GET', `${V3}${path}`, { token });
  const patch = (path: string, body: unknown, token = admin) => t.request('PATCH', `${V3}${path}`, { token, body });
  const del = (path: string, token = admin) => t.request('DELETE', `${V3}${path}`, { token });

  const newService = async (type = `type-${Math.random().toString(36).slice(2, 8)}`, name = 'svc') => {
    const res = await post('/services', { service: { type, name, description: 'd' } });
    assert.equal(res.status, 201, res.text);
    return res.json.service as { id: string; type: string };
  };

  it('creates regions with generated, posted and PUT ids', async () => {
    const generated = await post('/regions', { region: { description: 'gen' } });
    assert.equal(generated.status, 201);
    assert.match(generated.json.region.id, /^[0-9a-f]{32}$/);
    assert.equal(generated.json.region.description, 'gen');
    assert.equal(generated.json.region.parent_region_id, null);
    assert.match(generated.json.region.links.self, new RegExp(`^https?://[^/]+/identity/v3/regions/${generated.json.region.id}$`));

    const posted = await post('/regions', { region: { id: 'RegionTwo', description: 'two', custom: 'kept' } });
    assert.equal(posted.status, 201);
    assert.equal(posted.json.region.id, 'RegionTwo');
    assert.equal(posted.json.region.custom, 'kept');

    const put = await t.request('PUT', `${V3}/regions/RegionThree`, { token: admin, body: { region: { description: 'three' } } });
    assert.equal(put.status, 201);
    assert.equal(put.json.region.id, 'RegionThree');

    const mismatch = await t.request('PUT', `${V3}/regions/RegionFour`, { token: admin, body: { region: { id: 'Other' } } });
    assert.equal(mismatch.status, 400);
    assert.equal((await get('/regions/RegionFour')).status, 404);

    const dup = await post('/regions', { region: { id: 'RegionTwo' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 409);

    const orphan = await post('/regions', { region: { id: 'Orphan', parent_region_id: 'nowhere' } });
    assert.equal(orphan.status, 404);
    assert.equal((await get('/regions/Orphan')).status, 404);

    const shown = await get('/regions/RegionTwo');
    assert.equal(shown.status, 200);
    assert.equal(shown.json.region.description, 'two');
    assert.equal(shown.json.region.custom, 'kept');
  });

  it('updates parents, refuses cycles and filters by parent', async () => {
    await post('/regions', { region: { id: 'P1' } });
    await post('/regions', { region: { id: 'P2' } });
    const child = await post('/regions', { region: { id: 'C1', parent_region_id: 'P1', description: 'c' } });
    assert.equal(child.json.region.parent_region_id, 'P1');
    const grandchild = await post('/regions', { region: { id: 'G1', parent_region_id: 'C1' } });
    assert.equal(grandchild.status, 201);

    const moved = await patch('/regions/C1', { region: { parent_region_id: 'P2', description: 'moved' } });
    assert.equal(moved.status, 200);
    assert.equal(moved.json.region.parent_region_id, 'P2');
    assert.equal(moved.json.region.description, 'moved');

    const cycle = await patch('/regions/P2', { region: { parent_region_id: 'G1' } });
    assert.equal(cycle.status, 400);
    assert.match(cycle.json.error.message, /circular region hierarchy/);
    const self = await patch('/regions/P2', { region: { parent_region_id: 'P2' } });
    assert.equal(self.status, 400);
    const empty = await patch('/regions/P2', { region: {} });
    assert.equal(empty.status, 400);

    const filtered = await get('/regions?parent_region_id=P2');
    assert.equal(filtered.status, 200);
    assert.deepEqual(filtered.json.regions.map((r: { id: string }) => r.id), ['C1']);
    assert.equal(filtered.json.links.previous, null);
    assert.ok(String(filtered.json.links.self).endsWith('/identity/v3/regions'));

    // Deleting a region takes its subtree with it.
    assert.equal((await del('/regions/P2')).status, 204);
    assert.equal((await get('/regions/C1')).status, 404);
    assert.equal((await get('/regions/G1')).status, 404);
    assert.equal((await get('/regions/P1')).status, 200);
  });

  it('lets any user read regions but only admins change them', async () => {
    assert.equal((await get('/regions', demo)).status, 200);
    const denied = await post('/regions', { region: { id: 'NotMine' } }, demo);
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.title, 'Forbidden');
    assert.equal((await get('/regions/NotMine')).status, 404);
    assert.equal((await get('/services', demo)).status, 403);
    assert.equal((await t.request('GET', `${V3}/regions`)).status, 401);
  });

  it('creates, lists, updates and deletes services', async () => {
    const created = await post('/services', { service: { type: 'widget', name: 'widgets', description: 'first' } });
    assert.equal(created.status, 201);
    const svc = created.json.service;
    assert.deepEqual(
      { type: svc.type, name: svc.name, description: svc.description, enabled: svc.enabled },
      { type: 'widget', name: 'widgets', description: 'first', enabled: true },
    );
    const bare = await post('/services', { service: { type: 'bare' } });
    assert.equal(bare.status, 201);
    assert.equal(bare.json.service.name, '');
    assert.equal('description' in bare.json.service, false);

    assert.equal((await post('/services', { service: { name: 'no type' } })).status, 400);
    assert.equal((await post('/services', { service: { type: 'x', enabled: 'True' } })).status, 400);
    assert.equal((await post('/services', { service: { type: '' } })).status, 400);

    const byType = await get('/services?type=widget');
    assert.deepEqual(byType.json.services.map((s: { id: string }) => s.id), [svc.id]);
    const byName = await get('/services?name=widgets');
    assert.deepEqual(byName.json.services.map((s: { id: string }) => s.id), [svc.id]);

    const updated = await patch(`/services/${svc.id}`, { service: { description: 'second', enabled: false } });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.service.description, 'second');
    assert.equal(updated.json.service.enabled, false);
    assert.equal(updated.json.service.name, 'widgets');
    const shown = await get(`/services/${svc.id}`);
    assert.deepEqual(shown.json.service, updated.json.service);
    assert.equal((await patch(`/services/${svc.id}`, { service: { id: 'other' } })).status, 400);

    const ep = await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://w.example/' } });
    assert.equal(ep.status, 201);
    assert.equal((await del(`/services/${svc.id}`)).status, 204);
    assert.equal((await get(`/services/${svc.id}`)).status, 404);
    assert.equal((await get(`/endpoints/${ep.json.endpoint.id}`)).status, 404, 'endpoints go with their service');
    assert.equal((await del(`/services/${svc.id}`)).status, 404);
  });

  it('creates endpoints, auto-creating v2-style regions, and validates strictly', async () => {
    const svc = await newService();
    const created = await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://a.example/v1', region: 'LegacyRegion', enabled: true } });
    assert.equal(created.status, 201);
    const ep = created.json.endpoint;
    assert.deepEqual(
      { service_id: ep.service_id, interface: ep.interface, url: ep.url, region: ep.region, region_id: ep.region_id, enabled: ep.enabled },
      { service_id: svc.id, interface: 'public', url: 'http://a.example/v1', region: 'LegacyRegion', region_id: 'LegacyRegion', enabled: true },
    );
    assert.equal((await get('/regions/LegacyRegion')).status, 200);
    assert.equal((await del('/regions/LegacyRegion')).status, 403, 'a region with endpoints stays');

    for (const enabled of ['True', 'False']) {
      const bad = await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://b.example/', region: 'NeverMade', enabled } });
      assert.equal(bad.status, 400);
      const badUpdate = await patch(`/endpoints/${ep.id}`, { endpoint: { enabled } });
      assert.equal(badUpdate.status, 400);
    }
    assert.equal((await get('/regions/NeverMade')).status, 404);

    const noService = await post('/endpoints', { endpoint: { service_id: 'missing', interface: 'public', url: 'http://b.example/', region: 'NeverMade' } });
    assert.equal(noService.status, 400);
    assert.equal((await get('/regions/NeverMade')).status, 404, 'a refused endpoint leaves no region behind');
    assert.equal((await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://b.example/', region_id: 'NeverMade' } })).status, 400);
    assert.equal((await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'private', url: 'http://b.example/' } })).status, 400);
    assert.equal((await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'no-scheme' } })).status, 400);
    const badSub = await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://b.example/$(secret)s' } });
    assert.equal(badSub.status, 400);
    assert.match(badSub.json.error.message, /invalid URL/);
    assert.equal((await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://b.example/$(project_id)s' } })).status, 201);
  });

  it('lists endpoints by filter and updates every attribute', async () => {
    const s1 = await newService();
    const s2 = await newService();
    const e1 = (await post('/endpoints', { endpoint: { service_id: s1.id, interface: 'public', url: 'http://one.example/', region: 'FilterRegion' } })).json.endpoint;
    const e2 = (await post('/endpoints', { endpoint: { service_id: s2.id, interface: 'internal', url: 'http://two.example/' } })).json.endpoint;
    assert.deepEqual((await get(`/endpoints?service_id=${s1.id}`)).json.endpoints.map((e: { id: string }) => e.id), [e1.id]);
    const internal = (await get('/endpoints?interface=internal')).json.endpoints.map((e: { id: string }) => e.id);
    assert.ok(internal.includes(e2.id) && !internal.includes(e1.id));
    assert.deepEqual((await get('/endpoints?region_id=FilterRegion')).json.endpoints.map((e: { id: string }) => e.id), [e1.id]);

    const updated = await patch(`/endpoints/${e1.id}`, { endpoint: { service_id: s2.id, interface: 'admin', url: 'http://moved.example/', region: 'MovedRegion', enabled: false } });
    assert.equal(updated.status, 200);
    assert.deepEqual(
      { service_id: updated.json.endpoint.service_id, interface: updated.json.endpoint.interface, url: updated.json.endpoint.url, region: updated.json.endpoint.region, enabled: updated.json.endpoint.enabled },
      { service_id: s2.id, interface: 'admin', url: 'http://moved.example/', region: 'MovedRegion', enabled: false },
    );
    assert.equal((await get('/regions/MovedRegion')).status, 200);
    assert.deepEqual((await get(`/endpoints/${e1.id}`)).json.endpoint, updated.json.endpoint);
    assert.equal((await patch(`/endpoints/${e1.id}`, { endpoint: { service_id: 'missing' } })).status, 400);
    assert.equal((await del(`/endpoints/${e1.id}`)).status, 204);
    assert.equal((await get(`/endpoints/${e1.id}`)).status, 404);
    assert.equal((await del(`/endpoints/${e1.id}`)).status, 404);
  });

  it('serves a catalog that follows catalog writes at once', async () => {
    const before = await get('/auth/catalog', demo);
    assert.equal(before.status, 200);
    const identity = before.json.catalog.find((s: { type: string }) => s.type === 'identity');
    assert.ok(identity, 'identity is in the catalog');
    assert.equal(identity.name, 'keystone');
    const ep = identity.endpoints[0];
    assert.deepEqual(Object.keys(ep).sort(), ['id', 'interface', 'region', 'region_id', 'url']);
    assert.equal(ep.region, ep.region_id);

    const svc = await newService('catalog-test', 'cat');
    const e = (await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://cat.example/v1/$(project_id)s' } })).json.endpoint;
    const withIt = await get('/auth/catalog', demo);
    const entry = withIt.json.catalog.find((s: { id: string }) => s.id === svc.id);
    assert.equal(entry.endpoints[0].url, `http://cat.example/v1/${demoProjectId}`);

    // A domain-scoped token has no project: endpoints needing one are left out.
    const domainToken = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { domain: { id: 'default' } });
    const domainCatalog = await get('/auth/catalog', domainToken.token);
    assert.deepEqual(domainCatalog.json.catalog.find((s: { id: string }) => s.id === svc.id).endpoints, []);

    await patch(`/endpoints/${e.id}`, { endpoint: { enabled: false } });
    const disabled = await get('/auth/catalog', demo);
    assert.deepEqual(disabled.json.catalog.find((s: { id: string }) => s.id === svc.id).endpoints, []);
    await patch(`/services/${svc.id}`, { service: { enabled: false } });
    assert.equal((await get('/auth/catalog', demo)).json.catalog.some((s: { id: string }) => s.id === svc.id), false);

    const token = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { id: demoProjectId } });
    assert.equal(token.json.token.catalog.some((s: { id: string }) => s.id === svc.id), false);
    assert.ok(token.json.token.catalog.some((s: { type: string }) => s.type === 'identity'));
  });

  it('manages endpoint groups like Tempest does, HEAD included', async () => {
    const svc = await newService();
    const created = await post('/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'g1', description: 'group', filters: { service_id: svc.id } } });
    assert.equal(created.status, 201);
    const group = created.json.endpoint_group;
    assert.deepEqual(
      { name: group.name, description: group.description, filters: group.filters },
      { name: 'g1', description: 'group', filters: { service_id: svc.id } },
    );
    assert.ok(String(group.links.self).endsWith(`/identity/v3/OS-EP-FILTER/endpoint_groups/${group.id}`));
    const listed = await get('/OS-EP-FILTER/endpoint_groups');
    assert.deepEqual(listed.json.endpoint_groups.find((g: { id: string }) => g.id === group.id), group);
    assert.deepEqual((await get(`/OS-EP-FILTER/endpoint_groups/${group.id}`)).json.endpoint_group, group);
    const head = await t.request('HEAD', `${V3}/OS-EP-FILTER/endpoint_groups/${group.id}`, { token: admin });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');

    const svc2 = await newService();
    const updated = await patch(`/OS-EP-FILTER/endpoint_groups/${group.id}`, { endpoint_group: { name: 'g2', description: 'changed', filters: { service_id: svc2.id } } });
    assert.equal(updated.status, 200);
    assert.deepEqual({ name: updated.json.endpoint_group.name, filters: updated.json.endpoint_group.filters }, { name: 'g2', filters: { service_id: svc2.id } });

    assert.equal((await post('/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'bad', filters: { url: 'x' } } })).status, 400);
    assert.equal((await post('/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'bad', filters: {} } })).status, 400);
    assert.equal((await post('/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'bad' } })).status, 400);
    assert.equal((await get('/OS-EP-FILTER/endpoint_groups', demo)).status, 403);

    assert.equal((await del(`/OS-EP-FILTER/endpoint_groups/${group.id}`)).status, 204);
    assert.equal((await get(`/OS-EP-FILTER/endpoint_groups/${group.id}`)).status, 404);
    assert.equal((await t.request('HEAD', `${V3}/OS-EP-FILTER/endpoint_groups/${group.id}`, { token: admin })).status, 404);
  });

  it('narrows a project catalog to its associated endpoints and endpoint groups', async () => {
    const project = await t.cloud.identity.service.resource.createProject({ name: 'filtered', domainId: 'default' });
    const users = t.cloud.identity.service.users;
    const member = await t.cloud.identity.service.roles.findByName('member');
    const user = await users.createUser({ name: 'filter-user', domainId: 'default', password: 'filter-pw-123' });
    await t.cloud.identity.service.assignments.grant('UserProject', user.id, project.id, member!.id);
    const catalogOf = async () => {
      const login = await t.login({ name: 'filter-user', password: 'filter-pw-123' }, { project: { id: project.id } });
      assert.equal(login.status, 201);
      return login.json.token.catalog as { type: string; endpoints: { id: string }[] }[];
    };
    const full = await catalogOf();
    assert.ok(full.length > 1);

    const svc = await newService('filtered-type');
    const a = (await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'public', url: 'http://a.example/' } })).json.endpoint;
    const b = (await post('/endpoints', { endpoint: { service_id: svc.id, interface: 'internal', url: 'http://b.example/' } })).json.endpoint;

    assert.equal((await t.request('GET', `${V3}/OS-EP-FILTER/projects/${project.id}/endpoints/${a.id}`, { token: admin })).status, 404);
    assert.equal((await t.request('PUT', `${V3}/OS-EP-FILTER/projects/${project.id}/endpoints/${a.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('GET', `${V3}/OS-EP-FILTER/projects/${project.id}/endpoints/${a.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('PUT', `${V3}/OS-EP-FILTER/projects/nope/endpoints/${a.id}`, { token: admin })).status, 404);
    const narrowed = await catalogOf();
    assert.deepEqual(narrowed.map((s) => [s.type, s.endpoints.map((e) => e.id)]), [['filtered-type', [a.id]]]);
    const projectsOfA = await get(`/OS-EP-FILTER/endpoints/${a.id}/projects`);
    assert.deepEqual(projectsOfA.json.projects.map((p: { id: string }) => p.id), [project.id]);

    const group = (await post('/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'internal-only', filters: { interface: 'internal', service_id: svc.id } } })).json.endpoint_group;
    assert.equal((await t.request('PUT', `${V3}/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`, { token: admin })).status, 204);
    const assoc = await get(`/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`);
    assert.equal(assoc.status, 200);
    assert.deepEqual({ g: assoc.json.project_endpoint_group.endpoint_group_id, p: assoc.json.project_endpoint_group.project_id }, { g: group.id, p: project.id });
    const both = await catalogOf();
    assert.deepEqual(both.flatMap((s) => s.endpoints.map((e) => e.id)).sort(), [a.id, b.id].sort());
    const listed = await get(`/OS-EP-FILTER/projects/${project.id}/endpoints`);
    assert.deepEqual(listed.json.endpoints.map((e: { id: string }) => e.id).sort(), [a.id, b.id].sort());
    assert.deepEqual((await get(`/OS-EP-FILTER/projects/${project.id}/endpoint_groups`)).json.endpoint_groups.map((g: { id: string }) => g.id), [group.id]);
    assert.deepEqual((await get(`/OS-EP-FILTER/endpoint_groups/${group.id}/endpoints`)).json.endpoints.map((e: { id: string }) => e.id), [b.id]);

    assert.equal((await t.request('DELETE', `${V3}/OS-EP-FILTER/projects/${project.id}/endpoints/${a.id}`, { token: admin })).status, 204);
    assert.equal((await t.request('DELETE', `${V3}/OS-EP-FILTER/endpoint_groups/${group.id}/projects/${project.id}`, { token: admin })).status, 204);
    assert.equal((await catalogOf()).length, full.length + 1, 'without associations the project sees everything again');
  });
});
