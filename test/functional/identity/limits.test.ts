import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: unified limits', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let adminProjectId: string;
  let demoProjectId: string;
  let serviceId: string;

  before(async () => {
    t = await startTestCloud();
    const a = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
    admin = a.token;
    adminProjectId = a.json.token.project.id;
    const d = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = d.token;
    demoProjectId = d.json.token.project.id;
    const svc = await t.request('POST', `${V3}/services`, { token: admin, body: { service: { type: 'quota-test', name: 'q' } } });
    serviceId = svc.json.service.id;
  });
  after(async () => {
    await t.close();
  });

  const req = (method: string, path: string, token: string | null, body?: unknown) => t.request(method, `${V3}${path}`, { token, body });
  const regionId = () => t.config.server.region;

  it('reports the flat enforcement model to anyone', async () => {
    const res = await req('GET', '/limits/model', demo);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { model: { name: 'flat', description: 'Limit enforcement and validation does not take project hierarchy into consideration.' } });
  });

  it('creates registered limits as a list, all or nothing', async () => {
    const res = await req('POST', '/registered_limits', admin, {
      registered_limits: [
        { service_id: serviceId, resource_name: 'cores', default_limit: 10, description: 'cpu' },
        { service_id: serviceId, region_id: regionId(), resource_name: 'ram', default_limit: 1024 },
      ],
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.json), ['registered_limits']);
    const [cores, ram] = res.json.registered_limits;
    assert.deepEqual(
      { service_id: cores.service_id, region_id: cores.region_id, resource_name: cores.resource_name, default_limit: cores.default_limit, description: cores.description },
      { service_id: serviceId, region_id: null, resource_name: 'cores', default_limit: 10, description: 'cpu' },
    );
    assert.equal(ram.region_id, regionId());
    assert.equal(ram.description, null);
    assert.ok(String(cores.links.self).endsWith(`/identity/v3/registered_limits/${cores.id}`));

    const dup = await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: serviceId, resource_name: 'disk', default_limit: 1 }, { service_id: serviceId, resource_name: 'cores', default_limit: 5 }] });
    assert.equal(dup.status, 409);
    assert.equal((await req('GET', '/registered_limits?resource_name=disk', admin)).json.registered_limits.length, 0, 'the valid entry was not stored either');
    const sameInList = await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1 }, { service_id: serviceId, resource_name: 'x', default_limit: 2 }] });
    assert.equal(sameInList.status, 409);

    assert.equal((await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: 'abc123', resource_name: 'x', default_limit: 1 }] })).status, 400);
    assert.equal((await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: serviceId, region_id: 'Nowhere', resource_name: 'x', default_limit: 1 }] })).status, 400);
    assert.equal((await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: -2 }] })).status, 400);
    assert.equal((await req('POST', '/registered_limits', admin, { registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1, extra: 1 }] })).status, 400);
    assert.equal((await req('POST', '/registered_limits', admin, { registered_limits: [] })).status, 400);
    assert.equal((await req('POST', '/registered_limits', demo, { registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1 }] })).status, 403);

    const listed = await req('GET', `/registered_limits?service_id=${serviceId}`, demo);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json.registered_limits.map((r: { resource_name: string }) => r.resource_name).sort(), ['cores', 'ram']);
    assert.deepEqual((await req('GET', `/registered_limits?region_id=${regionId()}`, admin)).json.registered_limits.map((r: { id: string }) => r.id), [ram.id]);
    assert.deepEqual((await req('GET', `/registered_limits/${cores.id}`, demo)).json.registered_limit, cores);

    const updated = await req('PATCH', `/registered_limits/${cores.id}`, admin, { registered_limit: { default_limit: 20, description: null } });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.registered_limit.default_limit, 20);
    assert.equal(updated.json.registered_limit.description, null);
    assert.equal((await req('PATCH', `/registered_limits/${cores.id}`, admin, { registered_limit: { resource_name: 'ram', region_id: regionId() } })).status, 409);
    assert.equal((await req('GET', '/registered_limits/missing', admin)).status, 404);
  });

  it('creates project and domain limits only against a registered limit', async () => {
    const noRef = await req('POST', '/limits', admin, { limits: [{ project_id: demoProjectId, service_id: serviceId, resource_name: 'gpus', resource_limit: 1 }] });
    assert.equal(noRef.status, 403);
    assert.match(noRef.json.error.message, /no corresponding registered limit/);

    const res = await req('POST', '/limits', admin, {
      limits: [
        { project_id: demoProjectId, service_id: serviceId, resource_name: 'cores', resource_limit: 4, description: 'demo cores' },
        { project_id: adminProjectId, service_id: serviceId, resource_name: 'cores', resource_limit: 40 },
        { domain_id: 'default', service_id: serviceId, region_id: regionId(), resource_name: 'ram', resource_limit: 4096 },
      ],
    });
    assert.equal(res.status, 201, res.text);
    const [demoLimit, adminLimit, domainLimit] = res.json.limits;
    assert.deepEqual(
      { project_id: demoLimit.project_id, domain_id: demoLimit.domain_id, service_id: demoLimit.service_id, region_id: demoLimit.region_id, resource_name: demoLimit.resource_name, resource_limit: demoLimit.resource_limit, description: demoLimit.description },
      { project_id: demoProjectId, domain_id: null, service_id: serviceId, region_id: null, resource_name: 'cores', resource_limit: 4, description: 'demo cores' },
    );
    assert.deepEqual({ project_id: domainLimit.project_id, domain_id: domainLimit.domain_id }, { project_id: null, domain_id: 'default' });

    assert.equal((await req('POST', '/limits', admin, { limits: [{ project_id: demoProjectId, service_id: serviceId, resource_name: 'cores', resource_limit: 5 }] })).status, 409);
    assert.equal((await req('POST', '/limits', admin, { limits: [{ project_id: demoProjectId, domain_id: 'default', service_id: serviceId, resource_name: 'cores', resource_limit: 5 }] })).status, 400);
    assert.equal((await req('POST', '/limits', admin, { limits: [{ project_id: 'abcdef', service_id: serviceId, resource_name: 'cores', resource_limit: 5 }] })).status, 400);
    assert.equal((await req('POST', '/limits', demo, { limits: [{ project_id: demoProjectId, service_id: serviceId, resource_name: 'cores', resource_limit: 99 }] })).status, 403);

    // A "project" that is a domain makes a domain limit, as in Keystone.
    const viaProject = await req('POST', '/limits', admin, { limits: [{ project_id: 'default', service_id: serviceId, resource_name: 'cores', resource_limit: 100 }] });
    assert.equal(viaProject.status, 201);
    assert.deepEqual({ p: viaProject.json.limits[0].project_id, d: viaProject.json.limits[0].domain_id }, { p: null, d: 'default' });

    // Registered limits with limits depending on them are frozen.
    const cores = (await req('GET', '/registered_limits?resource_name=cores', admin)).json.registered_limits[0];
    assert.equal((await req('PATCH', `/registered_limits/${cores.id}`, admin, { registered_limit: { default_limit: 1 } })).status, 403);
    assert.equal((await req('DELETE', `/registered_limits/${cores.id}`, admin)).status, 403);

    // Reads follow the token's scope.
    const demoList = await req('GET', '/limits', demo);
    assert.deepEqual(demoList.json.limits.map((l: { id: string }) => l.id), [demoLimit.id]);
    const adminProjectList = await req('GET', '/limits', admin);
    assert.deepEqual(adminProjectList.json.limits.map((l: { id: string }) => l.id), [adminLimit.id]);
    const system = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { system: { all: true } });
    const all = await req('GET', '/limits', system.token);
    assert.equal(all.json.limits.length, 4);
    assert.deepEqual((await req('GET', `/limits?project_id=${demoProjectId}`, system.token)).json.limits.map((l: { id: string }) => l.id), [demoLimit.id]);
    const domainScoped = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { domain: { id: 'default' } });
    assert.equal((await req('GET', '/limits', domainScoped.token)).json.limits.length, 4);

    assert.equal((await req('GET', `/limits/${demoLimit.id}`, demo)).status, 200);
    assert.equal((await req('GET', `/limits/${adminLimit.id}`, demo)).status, 403);
    assert.equal((await req('GET', `/limits/${adminLimit.id}`, admin)).json.limit.resource_limit, 40);

    const updated = await req('PATCH', `/limits/${demoLimit.id}`, admin, { limit: { resource_limit: 8, description: 'more' } });
    assert.equal(updated.status, 200);
    assert.deepEqual({ r: updated.json.limit.resource_limit, d: updated.json.limit.description }, { r: 8, d: 'more' });
    assert.equal((await req('PATCH', `/limits/${demoLimit.id}`, admin, { limit: { project_id: adminProjectId } })).status, 400);
    assert.equal((await req('PATCH', `/limits/${demoLimit.id}`, demo, { limit: { resource_limit: 1000 } })).status, 403);

    for (const l of [demoLimit, adminLimit, viaProject.json.limits[0]]) assert.equal((await req('DELETE', `/limits/${l.id}`, admin)).status, 204);
    assert.equal((await req('GET', `/limits/${demoLimit.id}`, admin)).status, 404);
    assert.equal((await req('DELETE', `/registered_limits/${cores.id}`, admin)).status, 204);
    assert.equal((await req('GET', `/registered_limits/${cores.id}`, admin)).status, 404);
  });
});
