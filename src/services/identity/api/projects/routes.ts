import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import { badRequest } from '../../../../common/errors.js';
import { selfUrl } from '../../../../common/http/url.js';
import type { PolicyTarget } from '../../../../common/policy/index.js';
import type { Project } from '../../model/types.js';
import type { ProjectChanges, ProjectFilters } from '../../managers/resource.js';
import { DEFAULT_DOMAIN_ID } from '../../store/tables.js';
import { MAX_TAGS, ProjectCreateBody, ProjectTagsBody, ProjectUpdateBody, TAG_PATTERN } from './schemas.js';
import { boolFilter, commonFilters, extrasOf, flagSet, queryOf, queryValue, tagList, truncate } from './query.js';
import { renderCollection } from './view.js';

interface ProjectBody {
  id?: string;
  name: string;
  description?: string | null;
  domain_id?: string | null;
  enabled?: boolean;
  is_domain?: boolean;
  parent_id?: string | null;
  tags?: string[];
  options?: Record<string, unknown>;
  [extra: string]: unknown;
}

const CORE = ['id', 'name', 'description', 'domain_id', 'enabled', 'is_domain', 'parent_id', 'tags', 'options', 'links'] as const;
type Params = { project_id: string };
type TagParams = { project_id: string; value: string };

/** The attributes a PATCH carries, with only the keys that were sent (immutable-project checks count them). */
export function projectChanges(body: Partial<ProjectBody>): ProjectChanges {
  const changes: ProjectChanges = {};
  if (body.id !== undefined) changes.id = body.id;
  if (body.name !== undefined) changes.name = body.name;
  if (body.description !== undefined) changes.description = body.description;
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  if (body.tags !== undefined) changes.tags = body.tags;
  if (body.options !== undefined) changes.options = body.options;
  if (body.domain_id !== undefined) changes.domainId = body.domain_id;
  if (body.parent_id !== undefined) changes.parentId = body.parent_id;
  if (body.is_domain !== undefined) changes.isDomain = body.is_domain;
  const extra = extrasOf(body, CORE, false);
  if (extra) changes.extra = extra;
  return changes;
}

/** Tag values must obey the same rules in the path as in a body. */
function assertTag(tag: string): void {
  if (tag.length < 1 || tag.length > 255 || !TAG_PATTERN.test(tag)) {
    throw badRequest(`Invalid input for field '<tag>': '${tag}' is not a valid tag (1 to 255 characters, without '/' or ',').`);
  }
}

/** /v3/projects and /v3/projects/{id}/tags. Grants under /v3/projects/{id}/users|groups belong to assignments. */
export async function projectRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const resource = service.resource;

  /** Keystone builds the policy target from the stored project, or leaves it empty when there is none. */
  const projectTarget = async (id: string): Promise<PolicyTarget> => {
    const row = await resource.findProjectRow(id);
    if (!row) return {};
    const project = { id: row.id, name: row.name, domain_id: row.is_domain === 1 ? null : row.domain_id, parent_id: row.parent_id, is_domain: row.is_domain === 1 };
    return { target: { project }, 'target.project.id': row.id, 'target.project.domain_id': project.domain_id };
  };

  const render = (request: FastifyRequest, project: Project) => api.views.project(request, project);

  app.get('/v3/projects', async (request) => {
    const query = queryOf(request);
    const auth = await api.authenticate(request);
    const scopedDomain = auth.domain?.id;
    api.authorize(request, 'identity:list_projects', scopedDomain ? { domain_id: scopedDomain, target: { domain_id: scopedDomain }, 'target.domain_id': scopedDomain } : {});
    const filters: ProjectFilters = commonFilters(query);
    const domainId = queryValue(query, 'domain_id');
    if (domainId !== undefined) filters.domainId = domainId;
    const parentId = queryValue(query, 'parent_id');
    if (parentId !== undefined) filters.parentId = parentId;
    const isDomain = queryValue(query, 'is_domain');
    // Without is_domain, projects acting as domains are left out.
    filters.isDomain = isDomain === undefined ? false : boolFilter(isDomain);
    filters.tags = tagList(queryValue(query, 'tags'));
    filters.tagsAny = tagList(queryValue(query, 'tags-any'));
    filters.notTags = tagList(queryValue(query, 'not-tags'));
    filters.notTagsAny = tagList(queryValue(query, 'not-tags-any'));
    let projects = await resource.listProjects(filters);
    // A domain-scoped caller only ever sees that domain's projects.
    if (scopedDomain) projects = projects.filter((p) => !p.isDomain && p.domainId === scopedDomain);
    const page = truncate(projects, api.config.identity.list_limit);
    return renderCollection('projects', page.items.map((p) => render(request, p)), selfUrl(request, api.config.server.public_url), page.truncated);
  });

  app.get<{ Params: Params }>('/v3/projects/:project_id', async (request) => {
    const { project_id: id } = request.params;
    const auth = await api.guard(request, 'identity:get_project', await projectTarget(id));
    const project = await resource.getAnyProject(id);
    const query = queryOf(request);
    const parentsAsList = flagSet(query, 'parents_as_list');
    const parentsAsIds = flagSet(query, 'parents_as_ids');
    const subtreeAsList = flagSet(query, 'subtree_as_list');
    const subtreeAsIds = flagSet(query, 'subtree_as_ids');
    const includeLimits = flagSet(query, 'include_limits');
    if (parentsAsList && parentsAsIds) throw badRequest('Cannot use parents_as_list and parents_as_ids query params at the same time.');
    if (subtreeAsList && subtreeAsIds) throw badRequest('Cannot use subtree_as_list and subtree_as_ids query params at the same time.');
    const body = render(request, project);
    if (parentsAsList || subtreeAsList) {
      // The *_as_list forms only show projects the caller holds a role on.
      const visible = new Set(await service.assignments.projectIdsWithRoles(auth.user.id));
      const wrap = async (list: Project[]) => {
        const out = [];
        for (const p of list.filter((x) => visible.has(x.id))) {
          const rendered = render(request, p);
          if (includeLimits) rendered.limits = await limitsOf(p.id);
          out.push({ project: rendered });
        }
        return out;
      };
      if (parentsAsList) body.parents = await wrap(await resource.ancestors(id));
      if (subtreeAsList) body.subtree = await wrap(await resource.subtree(id));
    }
    if (parentsAsIds) body.parents = await resource.parentsAsIds(id);
    if (subtreeAsIds) body.subtree = await resource.subtreeAsIds(id);
    return { project: body };
  });

  const limitsOf = async (projectId: string) => {
    const rows = await service.core.db.selectFrom('identity_limits').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      project_id: r.project_id,
      domain_id: r.domain_id,
      service_id: r.service_id,
      region_id: r.region_id,
      resource_name: r.resource_name,
      resource_limit: r.resource_limit,
      description: r.description,
    }));
  };

  app.post('/v3/projects', { schema: { body: ProjectCreateBody } }, async (request, reply) => {
    const body = (request.body as { project: ProjectBody }).project;
    const auth = await api.guard(request, 'identity:create_project', { target: { project: body }, 'target.project.domain_id': body.domain_id ?? null });
    const project = await resource.create(
      {
        name: body.name,
        description: body.description,
        enabled: body.enabled,
        domainId: body.domain_id,
        parentId: body.parent_id,
        isDomain: body.is_domain,
        tags: body.tags,
        options: body.options,
        extra: extrasOf(body, CORE, true),
      },
      auth.domain?.id ?? DEFAULT_DOMAIN_ID,
    );
    reply.code(201);
    return { project: render(request, project) };
  });

  app.patch<{ Params: Params }>('/v3/projects/:project_id', { schema: { body: ProjectUpdateBody } }, async (request) => {
    const { project_id: id } = request.params;
    await api.guard(request, 'identity:update_project', await projectTarget(id));
    const body = (request.body as { project: Partial<ProjectBody> }).project;
    const project = await resource.update(id, projectChanges(body), 'project');
    return { project: render(request, project) };
  });

  app.delete<{ Params: Params }>('/v3/projects/:project_id', async (request, reply) => {
    const { project_id: id } = request.params;
    await api.guard(request, 'identity:delete_project', await projectTarget(id));
    await resource.deleteProject(id);
    reply.code(204).send();
  });

  // --- tags -------------------------------------------------------------------------------

  const tagsBody = (request: FastifyRequest, tags: string[]) => ({ tags, links: { self: selfUrl(request, api.config.server.public_url) } });

  app.get<{ Params: Params }>('/v3/projects/:project_id/tags', async (request) => {
    const { project_id: id } = request.params;
    await api.guard(request, 'identity:list_project_tags', await projectTarget(id));
    const project = await resource.getAnyProject(id);
    return tagsBody(request, project.tags);
  });

  app.put<{ Params: Params }>('/v3/projects/:project_id/tags', { schema: { body: ProjectTagsBody } }, async (request) => {
    const { project_id: id } = request.params;
    await api.guard(request, 'identity:update_project_tags', await projectTarget(id));
    const tags = await resource.setTags(id, (request.body as { tags: string[] }).tags);
    return tagsBody(request, tags);
  });

  app.delete<{ Params: Params }>('/v3/projects/:project_id/tags', async (request, reply) => {
    const { project_id: id } = request.params;
    await api.guard(request, 'identity:delete_project_tags', await projectTarget(id));
    await resource.setTags(id, []);
    reply.code(204).send();
  });

  app.get<{ Params: TagParams }>('/v3/projects/:project_id/tags/:value', async (request, reply) => {
    const { project_id: id, value } = request.params;
    await api.guard(request, 'identity:get_project_tag', await projectTarget(id));
    await resource.hasTag(id, value);
    reply.code(204).send();
  });

  app.put<{ Params: TagParams }>('/v3/projects/:project_id/tags/:value', async (request, reply) => {
    const { project_id: id, value } = request.params;
    await api.guard(request, 'identity:create_project_tag', await projectTarget(id));
    assertTag(value);
    const current = (await resource.getAnyProject(id)).tags;
    // Keystone validates the would-be list: a repeated tag or an 81st one is refused.
    if (current.includes(value)) throw badRequest(`Invalid input for field 'tags': ${JSON.stringify([...current, value])} has non-unique elements`);
    if (current.length + 1 > MAX_TAGS) throw badRequest(`Invalid input for field 'tags': the list has more than ${MAX_TAGS} tags`);
    const tag = await resource.addTag(id, value);
    reply
      .code(201)
      .header('location', `${api.v3Url(request)}/projects/${id}/tags/${encodeURIComponent(tag)}`)
      .send();
  });

  app.delete<{ Params: TagParams }>('/v3/projects/:project_id/tags/:value', async (request, reply) => {
    const { project_id: id, value } = request.params;
    await api.guard(request, 'identity:delete_project_tag', await projectTarget(id));
    await resource.removeTag(id, value);
    reply.code(204).send();
  });
}
