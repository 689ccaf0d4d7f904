import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import type { AssignmentFilter } from '../../managers/assignments.js';
import { badRequest } from '../../../../common/errors.js';
import { grantRoutes } from './grants.js';
import { renderAssignment } from './view.js';
import { queryValue } from '../roles/routes.js';

/** Keystone's query_filter_is_true: present and not '0' (a bare `?effective` counts). */
function flag(request: FastifyRequest, name: string): boolean {
  const query = request.query as Record<string, unknown>;
  if (!(name in query)) return false;
  return queryValue(request, name) !== '0';
}

/** Keystone's refusals of filter combinations that can't both hold (or can never match). */
function assertCombinable(request: FastifyRequest, effective: boolean, inherited: boolean | undefined): void {
  const has = (name: string) => Boolean(queryValue(request, name));
  if (has('scope.domain.id') && has('scope.project.id')) throw badRequest('Specify a domain or project, not both');
  if (has('scope.domain.id') && has('scope.system')) throw badRequest('Specify system or domain, not both');
  if (has('scope.project.id') && has('scope.system')) throw badRequest('Specify system or project, not both');
  if (has('user.id') && has('group.id')) throw badRequest('Specify a user or group, not both');
  if (effective) {
    if (has('group.id')) throw badRequest('Combining effective and group filter will always result in an empty list.');
    if (inherited && has('scope.domain.id')) throw badRequest('Combining effective, domain and inherited filters will always result in an empty list.');
  }
}

/** GET /v3/role_assignments, plus the grant APIs. */
export async function assignmentRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  await grantRoutes(app, api);

  app.get('/v3/role_assignments', async (request) => {
    const ctx = await api.authenticate(request);
    const query = request.query as Record<string, unknown>;
    const includeSubtree = flag(request, 'include_subtree');
    const projectId = queryValue(request, 'scope.project.id') || undefined;
    if (includeSubtree) {
      let target: Record<string, unknown> = {};
      if (projectId) {
        const project = await service.resource.getProject(projectId);
        target = { target: { project: { id: project.id, name: project.name, domain_id: project.domainId, parent_id: project.parentId } } };
      }
      api.authorize(request, 'identity:list_role_assignments_for_tree', target);
      if (!projectId) throw badRequest('scope.project.id must be specified if include_subtree is also specified');
    } else {
      api.authorize(request, 'identity:list_role_assignments', ctx.domain ? { target: { domain_id: ctx.domain.id } } : {});
    }

    const effective = flag(request, 'effective');
    const inherited = 'scope.OS-INHERIT:inherited_to' in query ? queryValue(request, 'scope.OS-INHERIT:inherited_to') === 'projects' : undefined;
    assertCombinable(request, effective, inherited);
    const filter: AssignmentFilter = {
      roleId: queryValue(request, 'role.id') || undefined,
      userId: queryValue(request, 'user.id') || undefined,
      groupId: queryValue(request, 'group.id') || undefined,
      projectId,
      domainId: queryValue(request, 'scope.domain.id') || undefined,
      system: queryValue(request, 'scope.system') === 'all',
      includeSubtree,
      inherited,
      effective,
    };
    let refs = await service.assignments.listRoleAssignments(filter);

    // A domain-scoped caller only sees assignments on its domain and the domain's projects.
    if (ctx.domain && !includeSubtree) {
      const domainId = ctx.domain.id;
      const projectIds = [...new Set(refs.map((r) => r.projectId).filter((p): p is string => Boolean(p)))];
      const inDomain = new Set<string>();
      for (const id of projectIds) {
        const row = await service.resource.findProjectRow(id);
        if (row?.domain_id === domainId) inDomain.add(id);
      }
      refs = refs.filter((r) => r.domainId === domainId || (r.projectId !== undefined && inDomain.has(r.projectId)));
    }

    const names = flag(request, 'include_names') ? await service.assignments.resolveNames(refs) : null;
    const v3 = api.v3Url(request);
    const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return {
      role_assignments: refs.map((ref) => renderAssignment(v3, ref, names)),
      links: { self: `${v3}/role_assignments${search}`, previous: null, next: null },
    };
  });
}
