import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
const BASE = 'http://localhost:80/identity/v3';

describe('identity: grants and role assignments', () => {
  let t: TestCloud;
  let admin: string;
  let domainId: string;
  let projectId: string;
  let leafId: string;
  let userId: string;
  let groupId: string;
  let memberId: string;
  let roleId: string;

  const req = (method: string, path: string, body?: unknown, token: string | null = admin) => t.request(method, `${V3}${path}`, { token, body });
  const newRole = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await req('POST', '/roles', { role: { name, ...extra } });
    assert.equal(res.status, 201, res.text);
    return res.json.role.id as string;
  };
  const newUser = async (name: string) => (await t.cloud.identity.service.users.createUser({ name, domainId, password: `pw-${name}` })).id;
  const login = (name: string, scope: unknown) => t.login({ name, password: `pw-${name}`, domain: domainId }, scope);
  const list = async (query: string) => {
    const res = await req('GET', `/role_assignments${query}`);
    assert.equal(res.status, 200, res.text);
    return res.json.role_assignments as Record<string, any>[];
  };

  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
    const svc = t.cloud.identity.service;
    domainId = (await svc.resource.createProject({ name: 'asg-domain', domainId: 'default', isDomain: true })).id;
    projectId = (await svc.resource.createProject({ name: 'asg-project', domainId })).id;
    leafId = (await svc.resource.createProject({ name: 'asg-leaf', domainId, parentId: projectId })).id;
    userId = await newUser('asg-user');
    memberId = await newUser('asg-member');
    groupId = randomUUID().replaceAll('-', '');
    await svc.core.db.insertInto('identity_groups').values({ id: groupId, name: 'asg-group', domain_id: domainId, description: '', extra: '{}' }).execute();
    await svc.core.db.insertInto('identity_group_members').values({ group_id: groupId, user_id: memberId }).execute();
    roleId = await newRole('asg-role');
  });
  after(async () => {
    await t.close();
  });

  for (const [targetKind, actorKind] of [
    ['projects', 'users'],
    ['projects', 'groups'],
    ['domains', 'users'],
    ['domains', 'groups'],
  ] as const) {
    it(`grants, lists, checks and revokes a role for ${actorKind} on ${targetKind}`, async () => {
      const target = targetKind === 'projects' ? projectId : domainId;
      const actor = actorKind === 'users' ? userId : groupId;
      const one = `/${targetKind}/${target}/${actorKind}/${actor}/roles/${roleId}`;
      const put = await req('PUT', one);
      assert.equal(put.status, 204);
      assert.equal(put.text, '');
      assert.equal((await req('PUT', one)).status, 204, 'granting twice is not an error');
      const listed = await req('GET', `/${targetKind}/${target}/${actorKind}/${actor}/roles`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json.roles.map((r: { id: string }) => r.id), [roleId]);
      assert.equal(listed.json.roles[0].name, 'asg-role');
      assert.equal(listed.json.links.self, `${BASE}/${targetKind}/${target}/${actorKind}/${actor}/roles`);
      assert.equal((await req('HEAD', one)).status, 204);
      assert.equal((await req('GET', one)).status, 204);
      assert.equal((await req('DELETE', one)).status, 204);
      const check = await req('HEAD', one);
      assert.equal(check.status, 404);
      const again = await req('DELETE', one);
      assert.equal(again.status, 404);
      assert.equal(again.json.error.message, `Could not find role assignment with role: ${roleId}, user or group: ${actor}, project, domain, or system: ${target}.`);
      assert.deepEqual((await req('GET', `/${targetKind}/${target}/${actorKind}/${actor}/roles`)).json.roles, []);
    });
  }

  it('grants, lists, checks and revokes system roles for users and groups', async () => {
    for (const [kind, actor] of [['users', userId], ['groups', groupId]] as const) {
      const one = `/system/${kind}/${actor}/roles/${roleId}`;
      assert.equal((await req('PUT', one)).status, 204);
      const listed = await req('GET', `/system/${kind}/${actor}/roles`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.json.roles.map((r: { id: string }) => r.id), [roleId]);
      assert.equal((await req('HEAD', one)).status, 204);
      assert.equal((await req('DELETE', one)).status, 204);
      assert.equal((await req('HEAD', one)).status, 404);
    }
    const domainRole = await newRole('asg-domain-role', { domain_id: domainId });
    const refused = await req('PUT', `/system/users/${userId}/roles/${domainRole}`);
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /domain-specific role/);
  });

  it('answers 404 for a missing role, user, group, project or domain, and changes nothing', async () => {
    const cases: [string, string][] = [
      [`/projects/${projectId}/users/${userId}/roles/missing-role`, 'Could not find role: missing-role.'],
      [`/projects/${projectId}/users/missing-user/roles/${roleId}`, 'Could not find user: missing-user.'],
      [`/projects/${projectId}/groups/missing-group/roles/${roleId}`, 'Could not find group: missing-group.'],
      [`/projects/missing-project/users/${userId}/roles/${roleId}`, 'Could not find project: missing-project.'],
      [`/domains/missing-domain/users/${userId}/roles/${roleId}`, 'Could not find domain: missing-domain.'],
      [`/projects/${domainId}/users/${userId}/roles/${roleId}`, `Could not find project: ${domainId}.`],
      [`/system/users/missing-user/roles/${roleId}`, 'Could not find user: missing-user.'],
      [`/OS-INHERIT/domains/${domainId}/users/missing-user/roles/${roleId}/inherited_to_projects`, 'Could not find user: missing-user.'],
    ];
    for (const [path, message] of cases) {
      const res = await req('PUT', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.error.message, message, path);
    }
    assert.equal((await req('GET', `/projects/${projectId}/users/missing-user/roles`)).status, 404);
    assert.deepEqual(await list(`?role.id=${roleId}`), []);
  });

  it('refuses a domain-specific role on a project of another domain (403)', async () => {
    const svc = t.cloud.identity.service;
    const foreign = (await svc.resource.createProject({ name: 'asg-foreign', domainId: 'default' })).id;
    const domainRole = await newRole('asg-dr-mismatch', { domain_id: domainId });
    const res = await req('PUT', `/projects/${foreign}/users/${userId}/roles/${domainRole}`);
    assert.equal(res.status, 403);
    assert.equal(res.json.error.message, `Project ${foreign} must be in the same domain as the role ${domainRole} being assigned.`);
    assert.equal((await req('PUT', `/projects/${projectId}/users/${userId}/roles/${domainRole}`)).status, 204);
    assert.equal((await req('DELETE', `/projects/${projectId}/users/${userId}/roles/${domainRole}`)).status, 204);
  });

  it('lists direct assignments with every filter in Keystone format', async () => {
    const r2 = await newRole('asg-filter-role');
    await req('PUT', `/projects/${projectId}/users/${userId}/roles/${r2}`);
    await req('PUT', `/domains/${domainId}/groups/${groupId}/roles/${r2}`);
    await req('PUT', `/system/users/${userId}/roles/${r2}`);
    await req('PUT', `/OS-INHERIT/domains/${domainId}/users/${userId}/roles/${r2}/inherited_to_projects`);

    const all = await list(`?role.id=${r2}`);
    assert.equal(all.length, 4);
    assert.deepEqual(all.find((a) => a.scope.project), {
      role: { id: r2 },
      user: { id: userId },
      scope: { project: { id: projectId } },
      links: { assignment: `${BASE}/projects/${projectId}/users/${userId}/roles/${r2}` },
    });
    assert.deepEqual(all.find((a) => a.group), {
      role: { id: r2 },
      group: { id: groupId },
      scope: { domain: { id: domainId } },
      links: { assignment: `${BASE}/domains/${domainId}/groups/${groupId}/roles/${r2}` },
    });
    assert.deepEqual(all.find((a) => a.scope.system), {
      role: { id: r2 },
      user: { id: userId },
      scope: { system: { all: true } },
      links: { assignment: `${BASE}/system/users/${userId}/roles/${r2}` },
    });
    assert.deepEqual(all.find((a) => a.scope['OS-INHERIT:inherited_to']), {
      role: { id: r2 },
      user: { id: userId },
      scope: { domain: { id: domainId }, 'OS-INHERIT:inherited_to': 'projects' },
      links: { assignment: `${BASE}/OS-INHERIT/domains/${domainId}/users/${userId}/roles/${r2}/inherited_to_projects` },
    });

    assert.equal((await list(`?role.id=${r2}&user.id=${userId}`)).length, 3);
    assert.equal((await list(`?role.id=${r2}&group.id=${groupId}`)).length, 1);
    assert.equal((await list(`?role.id=${r2}&scope.project.id=${projectId}`)).length, 1);
    assert.equal((await list(`?role.id=${r2}&scope.domain.id=${domainId}`)).length, 2);
    assert.equal((await list(`?role.id=${r2}&scope.system=all`)).length, 1);
    assert.equal((await list(`?role.id=${r2}&scope.OS-INHERIT:inherited_to=projects`)).length, 1);
    assert.equal((await list(`?role.id=${r2}&scope.domain.id=${domainId}&scope.OS-INHERIT:inherited_to=projects`)).length, 1);

    const res = await req('GET', `/role_assignments?role.id=${r2}&user.id=${userId}`);
    assert.deepEqual(res.json.links, { self: `${BASE}/role_assignments?role.id=${r2}&user.id=${userId}`, previous: null, next: null });

    const named = await list(`?role.id=${r2}&scope.project.id=${projectId}&include_names`);
    assert.deepEqual(named[0], {
      role: { id: r2, name: 'asg-filter-role' },
      user: { id: userId, name: 'asg-user', domain: { id: domainId, name: 'asg-domain' } },
      scope: { project: { id: projectId, name: 'asg-project', domain: { id: domainId, name: 'asg-domain' } } },
      links: { assignment: `${BASE}/projects/${projectId}/users/${userId}/roles/${r2}` },
    });
    const namedGroup = await list(`?role.id=${r2}&group.id=${groupId}&include_names=1`);
    assert.deepEqual(namedGroup[0].group, { id: groupId, name: 'asg-group', domain: { id: domainId, name: 'asg-domain' } });
    assert.deepEqual(namedGroup[0].scope, { domain: { id: domainId, name: 'asg-domain' } });
    const noNames = await list(`?role.id=${r2}&group.id=${groupId}&include_names=0`);
    assert.deepEqual(noNames[0].group, { id: groupId });

    await req('DELETE', `/projects/${projectId}/users/${userId}/roles/${r2}`);
    await req('DELETE', `/domains/${domainId}/groups/${groupId}/roles/${r2}`);
    await req('DELETE', `/system/users/${userId}/roles/${r2}`);
    await req('DELETE', `/OS-INHERIT/domains/${domainId}/users/${userId}/roles/${r2}/inherited_to_projects`);
    assert.deepEqual(await list(`?role.id=${r2}`), []);
  });

  it('refuses contradictory filters with 400', async () => {
    const bad = [
      `?scope.project.id=${projectId}&scope.domain.id=${domainId}`,
      `?scope.system=all&scope.domain.id=${domainId}`,
      `?scope.system=all&scope.project.id=${projectId}`,
      `?user.id=${userId}&group.id=${groupId}`,
      `?effective&group.id=${groupId}`,
      `?effective&scope.domain.id=${domainId}&scope.OS-INHERIT:inherited_to=projects`,
      '?include_subtree=True',
    ];
    for (const query of bad) {
      const res = await req('GET', `/role_assignments${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.json.error.code, 400);
    }
    assert.equal((await req('GET', '/role_assignments?include_subtree=1&scope.project.id=nope')).status, 404);
  });

  it('expands groups, inheritance and implied roles in effective mode', async () => {
    const prior = await newRole('asg-prior');
    const implied = await newRole('asg-implied');
    assert.equal((await req('PUT', `/roles/${prior}/implies/${implied}`)).status, 201);
    assert.equal((await req('PUT', `/projects/${projectId}/groups/${groupId}/roles/${prior}`)).status, 204);

    const eff = await list(`?effective&user.id=${memberId}&scope.project.id=${projectId}`);
    assert.equal(eff.length, 2);
    const direct = eff.find((a) => a.role.id === prior);
    assert.deepEqual(direct, {
      role: { id: prior },
      user: { id: memberId },
      scope: { project: { id: projectId } },
      links: { assignment: `${BASE}/projects/${projectId}/groups/${groupId}/roles/${prior}`, membership: `${BASE}/groups/${groupId}/users/${memberId}` },
    });
    const viaImplied = eff.find((a) => a.role.id === implied);
    assert.deepEqual(viaImplied?.links, {
      assignment: `${BASE}/projects/${projectId}/groups/${groupId}/roles/${prior}`,
      membership: `${BASE}/groups/${groupId}/users/${memberId}`,
      prior_role: `${BASE}/prior_role/${implied}/implies/${prior}`,
    });
    // Without a user filter, the group grant shows as its members' assignments.
    const byRole = await list(`?effective&role.id=${implied}`);
    assert.deepEqual(byRole.map((a) => a.user?.id), [memberId]);
    assert.ok(!byRole.some((a) => a.group));
    // The member's token carries both roles; removing the implication removes one.
    const tokenRoles = async () => {
      const res = await login('asg-member', { project: { id: projectId } });
      return res.status === 201 ? res.json.token.roles.map((r: { name: string }) => r.name).sort() : res.status;
    };
    assert.deepEqual(await tokenRoles(), ['asg-implied', 'asg-prior']);
    assert.equal((await req('DELETE', `/roles/${prior}/implies/${implied}`)).status, 204);
    assert.equal((await list(`?effective&user.id=${memberId}&scope.project.id=${projectId}`)).length, 1);
    assert.deepEqual(await tokenRoles(), ['asg-prior']);
    assert.equal((await req('DELETE', `/projects/${projectId}/groups/${groupId}/roles/${prior}`)).status, 204);
    assert.deepEqual(await list(`?effective&user.id=${memberId}&scope.project.id=${projectId}`), []);
    assert.equal(await tokenRoles(), 401, 'no role left on the project: no token for it');
  });

  it('inherits domain grants to every project of the domain (OS-INHERIT)', async () => {
    const inheritedRole = await newRole('asg-inherited-domain');
    const one = `/OS-INHERIT/domains/${domainId}/users/${userId}/roles/${inheritedRole}/inherited_to_projects`;
    assert.equal((await req('PUT', one)).status, 204);
    const listed = await req('GET', `/OS-INHERIT/domains/${domainId}/users/${userId}/roles/inherited_to_projects`);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json.roles.map((r: { id: string }) => r.id), [inheritedRole]);
    assert.equal((await req('HEAD', one)).status, 204);
    // Not a direct domain grant:
    assert.deepEqual((await req('GET', `/domains/${domainId}/users/${userId}/roles`)).json.roles, []);
    assert.equal((await req('HEAD', `/domains/${domainId}/users/${userId}/roles/${inheritedRole}`)).status, 404);

    for (const project of [projectId, leafId]) {
      const eff = await list(`?effective&user.id=${userId}&scope.project.id=${project}`);
      assert.equal(eff.length, 1, project);
      assert.deepEqual(eff[0], {
        role: { id: inheritedRole },
        user: { id: userId },
        scope: { project: { id: project }, 'OS-INHERIT:inherited_to': 'projects' },
        links: { assignment: `${BASE}/OS-INHERIT/domains/${domainId}/users/${userId}/roles/${inheritedRole}/inherited_to_projects` },
      });
    }
    // Effective mode lists the projects it reaches, never the inherited grant itself.
    const everywhere = await list(`?effective&role.id=${inheritedRole}`);
    assert.deepEqual(everywhere.map((a) => a.scope.project?.id).sort(), [projectId, leafId].sort());
    assert.deepEqual(await list(`?effective&user.id=${userId}&scope.domain.id=${domainId}`), []);
    const token = await login('asg-user', { project: { id: leafId } });
    assert.equal(token.status, 201, token.text);
    assert.deepEqual(token.json.token.roles.map((r: { name: string }) => r.name), ['asg-inherited-domain']);

    assert.equal((await req('DELETE', one)).status, 204);
    assert.deepEqual(await list(`?effective&user.id=${userId}&scope.project.id=${projectId}`), []);
    assert.deepEqual(await list(`?effective&user.id=${userId}&scope.project.id=${leafId}`), []);
    const check = await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': token.token } });
    assert.equal(check.status, 404, 'a token whose only role was revoked no longer validates');
  });

  it('inherits project grants to the subtree only, for users and groups', async () => {
    const r = await newRole('asg-inherited-project');
    for (const [kind, actor, viewer] of [['users', userId, userId], ['groups', groupId, memberId]] as const) {
      const one = `/OS-INHERIT/projects/${projectId}/${kind}/${actor}/roles/${r}/inherited_to_projects`;
      assert.equal((await req('PUT', one)).status, 204);
      assert.equal((await req('HEAD', one)).status, 204);
      assert.equal((await req('GET', one)).status, 204);
      assert.deepEqual(await list(`?effective&user.id=${viewer}&scope.project.id=${projectId}`), [], 'not on the project itself');
      const leaf = await list(`?effective&user.id=${viewer}&scope.project.id=${leafId}`);
      assert.equal(leaf.length, 1);
      assert.equal(leaf[0].links.assignment, `${BASE}/OS-INHERIT/projects/${projectId}/${kind === 'users' ? 'users' : 'groups'}/${actor}/roles/${r}/inherited_to_projects`);
      const direct = await list(`?role.id=${r}&scope.project.id=${projectId}&scope.OS-INHERIT:inherited_to=projects`);
      assert.equal(direct.length, 1);
      assert.equal(direct[0].scope['OS-INHERIT:inherited_to'], 'projects');
      const tree = await list(`?role.id=${r}&scope.project.id=${projectId}&include_subtree=1&effective`);
      assert.deepEqual(tree.map((a) => a.scope.project.id), [leafId]);
      assert.equal((await req('DELETE', one)).status, 204);
      assert.equal((await req('HEAD', one)).status, 404);
      assert.deepEqual(await list(`?effective&user.id=${viewer}&scope.project.id=${leafId}`), []);
    }
  });

  it('lists assignments of a project subtree with include_subtree', async () => {
    const r = await newRole('asg-subtree');
    await req('PUT', `/projects/${projectId}/users/${userId}/roles/${r}`);
    await req('PUT', `/projects/${leafId}/users/${userId}/roles/${r}`);
    assert.deepEqual((await list(`?role.id=${r}&scope.project.id=${projectId}`)).map((a) => a.scope.project.id), [projectId]);
    const tree = await list(`?role.id=${r}&scope.project.id=${projectId}&include_subtree=True`);
    assert.deepEqual(tree.map((a) => a.scope.project.id).sort(), [projectId, leafId].sort());
    await req('DELETE', `/projects/${projectId}/users/${userId}/roles/${r}`);
    await req('DELETE', `/projects/${leafId}/users/${userId}/roles/${r}`);
  });

  it('shows a domain reader only the assignments of its domain', async () => {
    const readerId = (await t.cloud.identity.service.roles.findByName('reader'))?.id;
    assert.ok(readerId);
    const viewer = await newUser('asg-domain-reader');
    assert.equal((await req('PUT', `/domains/${domainId}/users/${viewer}/roles/${readerId}`)).status, 204);
    assert.equal((await req('PUT', `/projects/${projectId}/users/${userId}/roles/${roleId}`)).status, 204);
    const token = (await login('asg-domain-reader', { domain: { id: domainId } })).token;
    const res = await req('GET', '/role_assignments', undefined, token);
    assert.equal(res.status, 200, res.text);
    const seen = res.json.role_assignments as Record<string, any>[];
    assert.ok(seen.length >= 2);
    assert.ok(seen.every((a) => a.scope.domain?.id === domainId || [projectId, leafId].includes(a.scope.project?.id)));
    assert.ok(seen.some((a) => a.scope.project?.id === projectId && a.role.id === roleId));
    assert.equal((await req('PUT', `/projects/${projectId}/users/${userId}/roles/${readerId}`, undefined, token)).status, 403);
    assert.equal((await req('DELETE', `/projects/${projectId}/users/${userId}/roles/${roleId}`)).status, 204);
    assert.equal((await req('DELETE', `/domains/${domainId}/users/${viewer}/roles/${readerId}`)).status, 204);
  });

  it('enforces grant policies for non-admins', async () => {
    const demo = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    const one = `/projects/${projectId}/users/${userId}/roles/${roleId}`;
    const put = await req('PUT', one, undefined, demo.token);
    assert.equal(put.status, 403);
    assert.equal(put.json.error.message, 'You are not authorized to perform the requested action: identity:create_grant.');
    assert.equal((await req('PUT', `/system/users/${userId}/roles/${roleId}`, undefined, demo.token)).status, 403);
    assert.equal((await req('GET', '/role_assignments', undefined, demo.token)).status, 403);
    assert.equal((await req('PUT', one, undefined, null)).status, 401);
    assert.equal((await req('HEAD', one)).status, 404, 'the refused grants were not made');
  });
});
