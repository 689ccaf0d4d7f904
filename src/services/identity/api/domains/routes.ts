import type { FastifyInstance } from 'fastify';
import type { IdentityApi } from '../context.js';
import { badRequest } from '../../../../common/errors.js';
import { selfUrl } from '../../../../common/http/url.js';
import type { PolicyTarget } from '../../../../common/policy/index.js';
import type { ProjectChanges } from '../../managers/resource.js';
import { commonFilters, extrasOf, queryOf, truncate } from '../projects/query.js';
import { renderCollection } from '../projects/view.js';
import { DomainCreateBody, DomainUpdateBody } from './schemas.js';
import { domainConfigRoutes } from './config-routes.js';

interface DomainBody {
  name: string;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  explicit_domain_id?: string;
  [extra: string]: unknown;
}

/** Keys that never become extras: the domain's own fields and the project fields a domain doesn't have. */
const CORE = ['id', 'name', 'description', 'enabled', 'tags', 'options', 'explicit_domain_id', 'links', 'domain_id', 'parent_id', 'is_domain'] as const;
type Params = { domain_id: string };

/** /v3/domains and the domain-specific configuration API. Domain grants belong to assignments. */
export async function domainRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const resource = api.service.resource;

  const domainTarget = async (id: string): Promise<PolicyTarget> => {
    const row = await resource.findProjectRow(id);
    if (!row || row.is_domain !== 1) return {};
    return { target: { domain: { id: row.id, name: row.name, enabled: row.enabled === 1 } }, 'target.domain.id': row.id };
  };

  app.get('/v3/domains', async (request) => {
    await api.guard(request, 'identity:list_domains');
    const domains = await resource.listProjects({ ...commonFilters(queryOf(request)), isDomain: true });
    const page = truncate(domains, api.config.identity.list_limit);
    const items = page.items.map((p) => api.views.domain(request, p));
    return renderCollection('domains', items, selfUrl(request, api.config.server.public_url), page.truncated);
  });

  app.get<{ Params: Params }>('/v3/domains/:domain_id', async (request) => {
    const { domain_id: id } = request.params;
    await api.guard(request, 'identity:get_domain', await domainTarget(id));
    return { domain: api.views.domain(request, await resource.getDomain(id)) };
  });

  app.post('/v3/domains', { schema: { body: DomainCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_domain');
    const body = (request.body as { domain: DomainBody }).domain;
    const explicitId = body.explicit_domain_id;
    // An explicit id must look like the ids Keystone generates (32 hex digits).
    if (explicitId !== undefined && !/^[0-9a-f]{32}$/.test(explicitId)) throw badRequest('Domain ID does not conform to required UUID format.');
    const project = await resource.create(
      {
        id: explicitId,
        name: body.name,
        description: body.description,
        enabled: body.enabled,
        isDomain: true,
        tags: body.tags,
        options: body.options,
        extra: extrasOf(body, CORE, true),
      },
      '',
    );
    reply.code(201);
    return { domain: api.views.domain(request, project) };
  });

  app.patch<{ Params: Params }>('/v3/domains/:domain_id', { schema: { body: DomainUpdateBody } }, async (request) => {
    const { domain_id: id } = request.params;
    await api.guard(request, 'identity:update_domain', await domainTarget(id));
    const body = (request.body as { domain: Partial<DomainBody> }).domain;
    const changes: ProjectChanges = {};
    if (body.name !== undefined) changes.name = body.name;
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    if (body.tags !== undefined) changes.tags = body.tags;
    if (body.options !== undefined) changes.options = body.options;
    const extra = extrasOf(body, CORE, false);
    if (extra) changes.extra = extra;
    const project = await resource.update(id, changes, 'domain');
    return { domain: api.views.domain(request, project) };
  });

  app.delete<{ Params: Params }>('/v3/domains/:domain_id', async (request, reply) => {
    const { domain_id: id } = request.params;
    await api.guard(request, 'identity:delete_domain', await domainTarget(id));
    await resource.deleteDomain(id);
    reply.code(204).send();
  });

  await domainConfigRoutes(app, api);
}
