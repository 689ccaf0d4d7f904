import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import { validateEndpointFilters } from '../../managers/extras.js';
import type { EndpointFilters } from '../../managers/catalog.js';
import { applyFilters, collection, memberOf, paramsOf, queryOf, requireMatchingId } from './common.js';
import { EndpointGroupCreateBody, EndpointGroupUpdateBody } from './schemas.js';
import { renderEndpoint, renderEndpointGroup } from './view.js';

const PREFIX = '/v3/OS-EP-FILTER';

/** OS-EP-FILTER: endpoint groups and the project associations that narrow a project's catalog. */
export async function epFilterRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const v3 = (request: FastifyRequest) => api.v3Url(request);
  const p = (request: FastifyRequest, name: string) => paramsOf(request)[name] ?? '';

  const projects = async (request: FastifyRequest, ids: string[], path: string) => {
    const out = [];
    for (const id of ids) {
      const row = await service.resource.findProjectRow(id);
      if (row && row.is_domain !== 1) out.push(api.views.project(request, await service.resource.getProject(id)));
    }
    return collection(api, request, 'projects', path, out);
  };

  // ---- endpoint groups ----

  app.get(`${PREFIX}/endpoint_groups`, async (request) => {
    await api.guard(request, 'identity:list_endpoint_groups');
    const groups = applyFilters(await service.extras.listEndpointGroups(), queryOf(request), { name: (g) => g.name });
    return collection(api, request, 'endpoint_groups', '/OS-EP-FILTER/endpoint_groups', groups.map((g) => renderEndpointGroup(v3(request), g)));
  });

  app.post(`${PREFIX}/endpoint_groups`, { schema: { body: EndpointGroupCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_endpoint_group');
    const body = memberOf(request.body, 'endpoint_group');
    const group = await service.extras.createEndpointGroup({
      name: body.name as string,
      description: body.description as string | null | undefined,
      filters: validateEndpointFilters(memberOf(body, 'filters')),
    });
    reply.code(201);
    return { endpoint_group: renderEndpointGroup(v3(request), group) };
  });

  // GET also answers HEAD (Fastify derives it), as Keystone's check_endpoint_group expects.
  app.get(`${PREFIX}/endpoint_groups/:endpoint_group_id`, async (request) => {
    await api.guard(request, 'identity:get_endpoint_group');
    return { endpoint_group: renderEndpointGroup(v3(request), await service.extras.getEndpointGroup(p(request, 'endpoint_group_id'))) };
  });

  app.patch(`${PREFIX}/endpoint_groups/:endpoint_group_id`, { schema: { body: EndpointGroupUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_endpoint_group');
    const id = p(request, 'endpoint_group_id');
    const body = memberOf(request.body, 'endpoint_group');
    let filters: EndpointFilters | undefined;
    if (body.filters !== undefined) filters = validateEndpointFilters(memberOf(body, 'filters'));
    requireMatchingId(body, id);
    const group = await service.extras.updateEndpointGroup(id, {
      name: typeof body.name === 'string' ? body.name : undefined,
      description: body.description as string | null | undefined,
      filters,
    });
    return { endpoint_group: renderEndpointGroup(v3(request), group) };
  });

  app.delete(`${PREFIX}/endpoint_groups/:endpoint_group_id`, async (request, reply) => {
    await api.guard(request, 'identity:delete_endpoint_group');
    await service.extras.deleteEndpointGroup(p(request, 'endpoint_group_id'));
    reply.code(204).send();
  });

  app.get(`${PREFIX}/endpoint_groups/:endpoint_group_id/endpoints`, async (request) => {
    await api.guard(request, 'identity:list_endpoints_associated_with_endpoint_group');
    const id = p(request, 'endpoint_group_id');
    const endpoints = await service.extras.endpointsInGroup(id);
    return collection(api, request, 'endpoints', `/OS-EP-FILTER/endpoint_groups/${id}/endpoints`, endpoints.map((e) => renderEndpoint(v3(request), e)));
  });

  app.get(`${PREFIX}/endpoint_groups/:endpoint_group_id/projects`, async (request) => {
    await api.guard(request, 'identity:list_projects_associated_with_endpoint_group');
    const id = p(request, 'endpoint_group_id');
    return projects(request, await service.extras.projectIdsForEndpointGroup(id), `/OS-EP-FILTER/endpoint_groups/${id}/projects`);
  });

  const groupAndProject = async (request: FastifyRequest) => {
    const groupId = p(request, 'endpoint_group_id');
    const projectId = p(request, 'project_id');
    await service.resource.getProject(projectId);
    await service.extras.getEndpointGroup(groupId);
    return { groupId, projectId };
  };

  app.get(`${PREFIX}/endpoint_groups/:endpoint_group_id/projects/:project_id`, async (request) => {
    await api.guard(request, 'identity:get_endpoint_group_in_project');
    const { groupId, projectId } = await groupAndProject(request);
    await service.extras.checkEndpointGroupInProject(groupId, projectId);
    return {
      project_endpoint_group: {
        endpoint_group_id: groupId,
        project_id: projectId,
        links: { self: `${v3(request)}/OS-EP-FILTER/endpoint_groups/${groupId}/projects/${projectId}` },
      },
    };
  });

  app.put(`${PREFIX}/endpoint_groups/:endpoint_group_id/projects/:project_id`, async (request, reply) => {
    await api.guard(request, 'identity:add_endpoint_group_to_project');
    const { groupId, projectId } = await groupAndProject(request);
    await service.extras.addEndpointGroupToProject(groupId, projectId);
    reply.code(204).send();
  });

  app.delete(`${PREFIX}/endpoint_groups/:endpoint_group_id/projects/:project_id`, async (request, reply) => {
    await api.guard(request, 'identity:remove_endpoint_group_from_project');
    const { groupId, projectId } = await groupAndProject(request);
    await service.extras.removeEndpointGroupFromProject(groupId, projectId);
    reply.code(204).send();
  });

  // ---- project <-> endpoint ----

  app.get(`${PREFIX}/endpoints/:endpoint_id/projects`, async (request) => {
    await api.guard(request, 'identity:list_projects_for_endpoint');
    const id = p(request, 'endpoint_id');
    await service.catalog.getEndpoint(id);
    return projects(request, await service.catalog.projectIdsForEndpoint(id), `/OS-EP-FILTER/endpoints/${id}/projects`);
  });

  app.get(`${PREFIX}/projects/:project_id/endpoints`, async (request) => {
    await api.guard(request, 'identity:list_endpoints_for_project');
    const projectId = p(request, 'project_id');
    await service.resource.getProject(projectId);
    const endpoints = await service.catalog.endpointsForProject(projectId);
    return collection(api, request, 'endpoints', `/OS-EP-FILTER/projects/${projectId}/endpoints`, endpoints.map((e) => renderEndpoint(v3(request), e)));
  });

  const endpointAndProject = async (request: FastifyRequest) => {
    const endpointId = p(request, 'endpoint_id');
    const projectId = p(request, 'project_id');
    await service.catalog.getEndpoint(endpointId);
    await service.resource.getProject(projectId);
    return { endpointId, projectId };
  };

  app.get(`${PREFIX}/projects/:project_id/endpoints/:endpoint_id`, async (request, reply) => {
    await api.guard(request, 'identity:check_endpoint_in_project');
    const { endpointId, projectId } = await endpointAndProject(request);
    await service.catalog.checkEndpointInProject(endpointId, projectId);
    reply.code(204).send();
  });

  app.put(`${PREFIX}/projects/:project_id/endpoints/:endpoint_id`, async (request, reply) => {
    await api.guard(request, 'identity:add_endpoint_to_project');
    const { endpointId, projectId } = await endpointAndProject(request);
    await service.catalog.addEndpointToProject(endpointId, projectId);
    reply.code(204).send();
  });

  app.delete(`${PREFIX}/projects/:project_id/endpoints/:endpoint_id`, async (request, reply) => {
    await api.guard(request, 'identity:remove_endpoint_from_project');
    await service.catalog.removeEndpointFromProject(p(request, 'endpoint_id'), p(request, 'project_id'));
    reply.code(204).send();
  });

  app.get(`${PREFIX}/projects/:project_id/endpoint_groups`, async (request) => {
    await api.guard(request, 'identity:list_endpoint_groups_for_project');
    const projectId = p(request, 'project_id');
    await service.resource.getProject(projectId);
    const groups = await service.extras.endpointGroupsForProject(projectId);
    return collection(api, request, 'endpoint_groups', `/OS-EP-FILTER/projects/${projectId}/endpoint_groups`, groups.map((g) => renderEndpointGroup(v3(request), g)));
  });
}
