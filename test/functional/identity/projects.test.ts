import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: projects', () => {
  let t: TestCloud;
  let admin: string;
  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  const create = (project: Record<string, unknown>, token = admin) => t.request('POST', `${V3}/projects`, { token, body: { project } });
  const newDomain = async (name: string) => (await t.request('POST', `${V3}/domains`, { token: admin, body: { domain: { name } } })).json.domain;

  it('creates projects with Keystone fields; get equals list', async () => {
    const res = await create({ name: 'alpha', description: 'desc', tags: ['a', 'c', 'b'], 'flavor-size': 'large' });
    assert.equal(res.status, 201);
    const p = res.json.project;
    assert.match(p.id, /^[0-9a-f]{32}$/);
    assert.equal(p.name, 'alpha');
    assert.equal(p.description, 'desc');
    assert.equal(p.domain_id, 'default');
    assert.equal(p.parent_id, 'default', 'a top-level project hangs off its domain');
    assert.equal(p.is_domain, false);
    assert.equal(p.enabled, true);
    assert.deepEqual([...p.tags].sort(), ['a', 'b', 'c']);
    assert.deepEqual(p.options, {});
    assert.equal(p.flavor_size, 'large', "Keystone rewrites '-' in extra attribute names");
    assert.match(p.links.self, new RegExp(`${V3}/projects/${p.id}$`));

    const show = await t.request('GET', `${V3}/projects/${p.id}`, { token: admin });
    assert.equal(show.status, 200);
    const list = await t.request('GET', `${V3}/projects`, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.links.previous, null);
    assert.deepEqual(list.json.projects.find((x: { id: string }) => x.id === p.id), show.json.project);
    assert.ok(!list.json.projects.some((x: { is_domain: boolean }) => x.is_domain), 'domains are not listed by default');

    const off = await create({ name: 'alpha-off', enabled: false });
    assert.equal(off.json.project.enabled, false);
    assert.equal(off.json.project.description, '');
  });

  it('places projects in domains and under parents, enforcing hierarchy rules', async () => {
    const d = await newDomain('hier-dom');
    const root = (await create({ name: 'root', domain_id: d.id })).json.project;
    assert.equal(root.domain_id, d.id);
    assert.equal(root.parent_id, d.id);
    const child = (await create({ name: 'child', parent_id: root.id })).json.project;
    assert.equal(child.parent_id, root.id);
    assert.equal(child.domain_id, d.id, 'a child without domain_id lands in its parent domain');
    const grandchild = (await create({ name: 'grandchild', domain_id: d.id, parent_id: child.id })).json.project;

    const wrongDomain = await create({ name: 'x', domain_id: 'default', parent_id: root.id });
    assert.equal(wrongDomain.status, 400);
    assert.match(wrongDomain.json.error.message, /specifies a parent in a different domain/);
    const noDomain = await create({ name: 'x', domain_id: 'f'.repeat(32) });
    assert.equal(noDomain.status, 400);
    assert.equal(noDomain.json.error.message, `Could not find domain: ${'f'.repeat(32)}.`);
    const noParent = await create({ name: 'x', parent_id: 'e'.repeat(32) });
    assert.equal(noParent.status, 400);
    assert.equal(noParent.json.error.message, `Could not find project: ${'e'.repeat(32)}.`);
    const badId = await create({ name: 'x', domain_id: 'not_valid!' });
    assert.equal(badId.status, 400);

    const sameName = await create({ name: 'root', domain_id: 'default' });
    assert.equal(sameName.status, 201, 'names are unique per domain only');
    const dup = await create({ name: 'root', domain_id: d.id });
    assert.equal(dup.status, 409);
    assert.match(dup.json.error.message, /^Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name/);

    const byParent = await t.request('GET', `${V3}/projects?parent_id=${root.id}`, { token: admin });
    assert.deepEqual(byParent.json.projects.map((x: { id: string }) => x.id), [child.id]);
    const byDomain = await t.request('GET', `${V3}/projects?domain_id=${d.id}`, { token: admin });
    assert.deepEqual(byDomain.json.projects.map((x: { name: string }) => x.name).sort(), ['child', 'grandchild', 'root']);

    const parentsIds = await t.request('GET', `${V3}/projects/${grandchild.id}?parents_as_ids`, { token: admin });
    assert.deepEqual(parentsIds.json.project.parents, { [child.id]: { [root.id]: { [d.id]: null } } });
    const subtreeIds = await t.request('GET', `${V3}/projects/${root.id}?subtree_as_ids=1`, { token: admin });
    assert.deepEqual(subtreeIds.json.project.subtree, { [child.id]: { [grandchild.id]: null } });
    const both = await t.request('GET', `${V3}/projects/${root.id}?subtree_as_ids&subtree_as_list`, { token: admin });
    assert.equal(both.status, 400);
    const zero = await t.request('GET', `${V3}/projects/${root.id}?subtree_as_ids=0`, { token: admin });
    assert.equal('subtree' in zero.json.project, false);

    // *_as_list only shows projects the caller holds roles on.
    const empty = await t.request('GET', `${V3}/projects/${grandchild.id}?parents_as_list`, { token: admin });
    assert.deepEqual(empty.json.project.parents, []);
    const svc = t.cloud.identity.service;
    const adminUser = await svc.users.findByName('admin', 'default');
    const adminRole = await svc.roles.findByName('admin');
    await svc.assignments.grant('UserProject', adminUser!.id, child.id, adminRole!.id);
    const listed = await t.request('GET', `${V3}/projects/${grandchild.id}?parents_as_list&include_limits`, { token: admin });
    assert.equal(listed.json.project.parents.length, 1);
    assert.equal(listed.json.project.parents[0].project.id, child.id);
    assert.deepEqual(listed.json.project.parents[0].project.limits, []);
    const subtreeList = await t.request('GET', `${V3}/projects/${root.id}?subtree_as_list`, { token: admin });
    assert.deepEqual(subtreeList.json.project.subtree.map((x: { project: { id: string } }) => x.project.id), [child.id]);

    // Parents can't go until their children have; parent_id and domain_id never change.
    const notLeaf = await t.request('DELETE', `${V3}/projects/${root.id}`, { token: admin });
    assert.equal(notLeaf.status, 403);
    assert.match(notLeaf.json.error.message, /not a leaf in the hierarchy/);
    const reparent = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { parent_id: d.id } } });
    assert.equal(reparent.status, 403);
    assert.equal(reparent.json.error.message, 'Update of `parent_id` is not allowed.');
    const redomain = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { domain_id: 'default' } } });
    assert.equal(redomain.status, 400);
    const unchangedDomain = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { domain_id: d.id, parent_id: root.id } } });
    assert.equal(unchangedDomain.status, 200);
    const toDomain = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { is_domain: true } } });
    assert.equal(toDomain.status, 400);
    const otherId = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { id: 'abc' } } });
    assert.equal(otherId.status, 400);
  });

  it('keeps enabled state consistent along the hierarchy', async () => {
    const parent = (await create({ name: 'en-parent' })).json.project;
    const child = (await create({ name: 'en-child', parent_id: parent.id })).json.project;
    const refuse = await t.request('PATCH', `${V3}/projects/${parent.id}`, { token: admin, body: { project: { enabled: false } } });
    assert.equal(refuse.status, 403);
    assert.match(refuse.json.error.message, /subtree contains enabled projects/);
    assert.equal((await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await t.request('PATCH', `${V3}/projects/${parent.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    const underDisabled = await create({ name: 'en-new', parent_id: parent.id, enabled: false });
    assert.equal(underDisabled.status, 400);
    assert.match(underDisabled.json.error.message, /branch containing a disabled project/);
    const enableChild = await t.request('PATCH', `${V3}/projects/${child.id}`, { token: admin, body: { project: { enabled: true } } });
    assert.equal(enableChild.status, 403);
    assert.match(enableChild.json.error.message, /has disabled parents/);
    const disabled = await t.request('GET', `${V3}/projects?enabled=false`, { token: admin });
    const names = disabled.json.projects.map((x: { name: string }) => x.name);
    assert.ok(names.includes('en-parent') && names.includes('en-child'));
    assert.ok(disabled.json.projects.every((x: { enabled: boolean }) => !x.enabled));
  });

  it('limits the depth of the tree', async () => {
    let parent = 'default';
    for (let depth = 1; depth <= 5; depth++) {
      const res = await create({ name: `deep-${depth}`, parent_id: parent });
      assert.equal(res.status, 201, `depth ${depth}`);
      parent = res.json.project.id;
    }
    const tooDeep = await create({ name: 'deep-6', parent_id: parent });
    assert.equal(tooDeep.status, 403);
    assert.equal(tooDeep.json.error.message, `Max hierarchy depth reached for ${parent} branch.`);
  });

  it('updates name, description, enabled, options and extras', async () => {
    const p = (await create({ name: 'upd', description: 'd1', extra1: 'x' })).json.project;
    const res = await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { name: 'upd2', description: 'd2', enabled: false, extra2: 'y' } } });
    assert.equal(res.status, 200);
    const u = res.json.project;
    assert.deepEqual([u.name, u.description, u.enabled, u.extra1, u.extra2], ['upd2', 'd2', false, 'x', 'y']);
    const show = (await t.request('GET', `${V3}/projects/${p.id}`, { token: admin })).json.project;
    assert.deepEqual(show, u);
    assert.equal((await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: {} } })).status, 400);
    assert.equal((await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { name: 'a'.repeat(65) } } })).status, 400);
    const other = (await create({ name: 'upd-other' })).json.project;
    assert.equal((await t.request('PATCH', `${V3}/projects/${other.id}`, { token: admin, body: { project: { name: 'upd2' } } })).status, 409);
    assert.equal((await t.request('PATCH', `${V3}/projects/${'a'.repeat(32)}`, { token: admin, body: { project: { name: 'z' } } })).status, 404);

    const locked = await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { options: { immutable: true } } } });
    assert.deepEqual(locked.json.project.options, { immutable: true });
    const refused = await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { name: 'nope' } } });
    assert.equal(refused.status, 403);
    assert.equal((await t.request('DELETE', `${V3}/projects/${p.id}`, { token: admin })).status, 403);
    assert.equal((await t.request('PUT', `${V3}/projects/${p.id}/tags/t1`, { token: admin, body: {} })).status, 403);
    const unlocked = await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { options: { immutable: null } } } });
    assert.equal(unlocked.status, 200);
    assert.deepEqual(unlocked.json.project.options, {});
    assert.equal((await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { options: { other: 1 } } } })).status, 400);
  });

  it('validates create bodies', async () => {
    for (const name of ['', 'a'.repeat(65)]) assert.equal((await create({ name })).status, 400);
    assert.equal((await create({ description: 'no name' })).status, 400);
    assert.equal((await t.request('POST', `${V3}/projects`, { token: admin, body: { name: 'no wrapper' } })).status, 400);
    assert.equal((await create({ name: 'tags-dup', tags: ['a', 'a'] })).status, 400);
    assert.equal((await create({ name: 'tags-comma', tags: ['a,b'] })).status, 400);
    assert.equal((await create({ name: 'tags-many', tags: Array.from({ length: 81 }, (_, i) => `t${i}`) })).status, 400);
    assert.equal((await create({ name: 'tags-80', tags: Array.from({ length: 80 }, (_, i) => `t${i}`) })).status, 201);
  });

  it('filters by name, is_domain and tags', async () => {
    await create({ name: 'tag-1', tags: ['red', 'blue'] });
    await create({ name: 'tag-2', tags: ['red'] });
    await create({ name: 'tag-3', tags: ['green'] });
    const names = async (qs: string) => {
      const res = await t.request('GET', `${V3}/projects?${qs}`, { token: admin });
      assert.equal(res.status, 200, qs);
      return res.json.projects.map((x: { name: string }) => x.name).filter((n: string) => n.startsWith('tag-')).sort();
    };
    assert.deepEqual(await names('tags=red,blue'), ['tag-1']);
    assert.deepEqual(await names('tags-any=blue,green'), ['tag-1', 'tag-3']);
    assert.deepEqual(await names('not-tags=red,blue'), ['tag-2', 'tag-3']);
    assert.deepEqual(await names('not-tags-any=red'), ['tag-3']);
    assert.deepEqual(await names('name=tag-2'), ['tag-2']);
    assert.deepEqual(await names('name__startswith=tag-'), ['tag-1', 'tag-2', 'tag-3']);
    const domains = await t.request('GET', `${V3}/projects?is_domain=1`, { token: admin });
    assert.ok(domains.json.projects.length >= 1);
    assert.ok(domains.json.projects.every((x: { is_domain: boolean; domain_id: unknown }) => x.is_domain && x.domain_id === null));
  });

  it('enforces policy: members may read their own project only', async () => {
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    const demoProject = demo.json.token.project.id;
    const own = await t.request('GET', `${V3}/projects/${demoProject}`, { token: demo.token });
    assert.equal(own.status, 200);
    assert.equal(own.json.project.name, 'demo');
    assert.equal((await t.request('GET', `${V3}/projects/${demoProject}/tags`, { token: demo.token })).status, 200);
    const adminProject = (await t.request('GET', `${V3}/projects?name=admin`, { token: admin })).json.projects[0];
    assert.equal((await t.request('GET', `${V3}/projects/${adminProject.id}`, { token: demo.token })).status, 403);
    assert.equal((await t.request('GET', `${V3}/projects`, { token: demo.token })).status, 403);
    assert.equal((await create({ name: 'by-demo' }, demo.token)).status, 403);
    assert.equal((await t.request('DELETE', `${V3}/projects/${demoProject}`, { token: demo.token })).status, 403);
    assert.equal((await t.request('PATCH', `${V3}/projects/${demoProject}`, { token: demo.token, body: { project: { name: 'x' } } })).status, 403);
  });

  it('a domain-scoped token creates in and lists only its domain', async () => {
    const scoped = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { domain: { id: 'default' } });
    assert.equal(scoped.status, 201);
    const d = await newDomain('elsewhere');
    await create({ name: 'elsewhere-p', domain_id: d.id });
    const made = await create({ name: 'from-domain-token' }, scoped.token);
    assert.equal(made.status, 201);
    assert.equal(made.json.project.domain_id, 'default');
    const list = await t.request('GET', `${V3}/projects`, { token: scoped.token });
    assert.equal(list.status, 200);
    assert.ok(list.json.projects.length > 0);
    assert.ok(list.json.projects.every((x: { domain_id: string }) => x.domain_id === 'default'));
  });

  it('deletes leaf projects with their grants and revokes their tokens', async () => {
    const p = (await create({ name: 'doomed' })).json.project;
    const svc = t.cloud.identity.service;
    const adminUser = await svc.users.findByName('admin', 'default');
    const adminRole = await svc.roles.findByName('admin');
    await svc.assignments.grant('UserProject', adminUser!.id, p.id, adminRole!.id);
    const scoped = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { id: p.id } });
    assert.equal(scoped.status, 201);
    assert.equal((await t.request('PATCH', `${V3}/projects/${p.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': scoped.token } })).status, 404);
    const del = await t.request('DELETE', `${V3}/projects/${p.id}`, { token: admin });
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    const gone = await t.request('GET', `${V3}/projects/${p.id}`, { token: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.message, `Could not find project: ${p.id}.`);
    const grants = await svc.core.db.selectFrom('identity_assignments').selectAll().where('target_id', '=', p.id).execute();
    assert.deepEqual(grants, []);
    const tags = await svc.core.db.selectFrom('identity_project_tags').selectAll().where('project_id', '=', p.id).execute();
    assert.deepEqual(tags, []);
    assert.equal((await t.request('DELETE', `${V3}/projects/${p.id}`, { token: admin })).status, 404);
  });
  it('manages project tags one by one and as a whole', async () => {
    const p = (await create({ name: 'tagged' })).json.project;
    const base = `${V3}/projects/${p.id}/tags`;
    const put = await t.request('PUT', `${base}/first`, { token: admin, body: {} });
    assert.equal(put.status, 201);
    assert.equal(put.text, '');
    assert.match(String(put.headers.location), new RegExp(`${V3}/projects/${p.id}/tags/first$`));
    assert.equal((await t.request('GET', `${base}/first`, { token: admin })).status, 204);
    assert.equal((await t.request('HEAD', `${base}/first`, { token: admin })).status, 204);
    assert.equal((await t.request('PUT', `${base}/first`, { token: admin })).status, 400, 'a repeated tag is refused');
    assert.equal((await t.request('PUT', `${base}/a%2Cb`, { token: admin })).status, 400);
    const missing = await t.request('GET', `${base}/nope`, { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.message, 'Could not find project tag: nope.');

    const replaced = await t.request('PUT', base, { token: admin, body: { tags: ['z', 'x', 'y'] } });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.json.tags, ['z', 'x', 'y']);
    assert.match(replaced.json.links.self, new RegExp(`${base}$`));
    const listed = await t.request('GET', base, { token: admin });
    assert.equal(listed.status, 200);
    assert.deepEqual([...listed.json.tags].sort(), ['x', 'y', 'z']);
    assert.equal((await t.request('GET', `${base}/first`, { token: admin })).status, 404, 'PUT replaced the old tags');
    assert.equal((await t.request('PUT', base, { token: admin, body: { tags: ['a/b'] } })).status, 400);
    assert.equal((await t.request('PUT', base, { token: admin, body: { tags: 'x' } })).status, 400);

    assert.equal((await t.request('DELETE', `${base}/x`, { token: admin })).status, 204);
    assert.equal((await t.request('DELETE', `${base}/x`, { token: admin })).status, 404);
    assert.deepEqual((await t.request('GET', `${V3}/projects/${p.id}`, { token: admin })).json.project.tags, ['y', 'z']);
    assert.equal((await t.request('DELETE', base, { token: admin })).status, 204);
    assert.deepEqual((await t.request('GET', base, { token: admin })).json.tags, []);

    const full = Array.from({ length: 80 }, (_, i) => `t${i}`);
    assert.equal((await t.request('PUT', base, { token: admin, body: { tags: full } })).status, 200);
    assert.equal((await t.request('PUT', `${base}/one-more`, { token: admin })).status, 400);
    assert.equal((await t.request('GET', `${V3}/projects/${'9'.repeat(32)}/tags`, { token: admin })).status, 404);
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    assert.equal((await t.request('PUT', `${base}/by-demo`, { token: demo.token })).status, 403);
  });
});
