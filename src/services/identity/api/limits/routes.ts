import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import type { Limit, LimitFilters, LimitInput, RegisteredLimitInput } from '../../managers/limits.js';
import { collection, memberOf, paramsOf, queryOf, requireMatchingId } from '../catalog/common.js';
import { LimitsCreateBody, LimitUpdateBody, RegisteredLimitsCreateBody, RegisteredLimitUpdateBody } from './schemas.js';
import { renderLimit, renderRegisteredLimit } from './view.js';

type Body = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const optNullable = (body: Body, key: string): string | null | undefined => (key in body ? (str(body[key]) ?? null) : undefined);

function filtersOf(request: FastifyRequest): LimitFilters {
  const q = queryOf(request);
  return { serviceId: q.service_id, regionId: q.region_id, resourceName: q.resource_name, projectId: q.project_id, domainId: q.domain_id };
}

/** Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model. */
export async function limitRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const limits = service.limits;
  const v3 = (request: FastifyRequest) => api.v3Url(request);

  // ---- registered limits ----

  app.get('/v3/registered_limits', async (request) => {
    await api.guard(request, 'identity:list_registered_limits');
    const { serviceId, regionId, resourceName } = filtersOf(request);
    const list = await limits.listRegisteredLimits({ serviceId, regionId, resourceName });
    return collection(api, request, 'registered_limits', '/registered_limits', list.map((r) => renderRegisteredLimit(v3(request), r)));
  });

  app.get('/v3/registered_limits/:registered_limit_id', async (request) => {
    await api.guard(request, 'identity:get_registered_limit');
    return { registered_limit: renderRegisteredLimit(v3(request), await limits.getRegisteredLimit(paramsOf(request).registered_limit_id ?? '')) };
  });

  app.post('/v3/registered_limits', { schema: { body: RegisteredLimitsCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_registered_limits');
    const items = (request.body as { registered_limits: Body[] }).registered_limits;
    const inputs: RegisteredLimitInput[] = items.map((b) => ({
      serviceId: b.service_id as string,
      regionId: str(b.region_id) ?? null,
      resourceName: b.resource_name as string,
      defaultLimit: b.default_limit as number,
      description: str(b.description) ?? null,
    }));
    const created = await limits.createRegisteredLimits(inputs);
    reply.code(201);
    return { registered_limits: created.map((r) => renderRegisteredLimit(v3(request), r)) };
  });

  app.patch('/v3/registered_limits/:registered_limit_id', { schema: { body: RegisteredLimitUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_registered_limit');
    const id = paramsOf(request).registered_limit_id ?? '';
    const body = memberOf(request.body, 'registered_limit');
    requireMatchingId(body, id);
    const updated = await limits.updateRegisteredLimit(id, {
      serviceId: str(body.service_id),
      regionId: optNullable(body, 'region_id'),
      resourceName: str(body.resource_name),
      defaultLimit: typeof body.default_limit === 'number' ? body.default_limit : undefined,
      description: optNullable(body, 'description'),
    });
    return { registered_limit: renderRegisteredLimit(v3(request), updated) };
  });

  app.delete('/v3/registered_limits/:registered_limit_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_registered_limit');
    await limits.deleteRegisteredLimit(paramsOf(request).registered_limit_id ?? '');
    reply.code(204).send();
  });

  // ---- limits ----

  app.get('/v3/limits/model', async (request) => {
    await api.guard(request, 'identity:get_limit_model');
    return { model: limits.model() };
  });

  app.get('/v3/limits', async (request) => {
    const ctx = await api.guard(request, 'identity:list_limits');
    const list = await limits.listLimitsForScope(filtersOf(request), { system: ctx.system === 'all', domainId: ctx.domain?.id, projectId: ctx.project?.id });
    return collection(api, request, 'limits', '/limits', list.map((l) => renderLimit(v3(request), l)));
  });

  /** Keystone's get_limit target: the limit with its project or domain attached. */
  const limitTarget = async (limit: Limit | undefined): Promise<Record<string, unknown>> => {
    if (!limit) return {};
    const target: Record<string, unknown> = { id: limit.id, project_id: limit.projectId, domain_id: limit.domainId };
    if (limit.projectId) {
      const row = await service.resource.findProjectRow(limit.projectId);
      if (row) target.project = { id: row.id, domain_id: row.domain_id };
    } else if (limit.domainId) {
      target.domain = { id: limit.domainId };
    }
    return { target: { limit: target } };
  };

  app.get('/v3/limits/:limit_id', async (request) => {
    await api.authenticate(request);
    const id = paramsOf(request).limit_id ?? '';
    const found = await limits.findLimit(id);
    api.authorize(request, 'identity:get_limit', await limitTarget(found));
    return { limit: renderLimit(v3(request), found ?? (await limits.getLimit(id))) };
  });

  app.post('/v3/limits', { schema: { body: LimitsCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_limits');
    const items = (request.body as { limits: Body[] }).limits;
    const inputs: LimitInput[] = items.map((b) => ({
      projectId: str(b.project_id),
      domainId: str(b.domain_id),
      serviceId: b.service_id as string,
      regionId: str(b.region_id) ?? null,
      resourceName: b.resource_name as string,
      resourceLimit: b.resource_limit as number,
      description: str(b.description) ?? null,
    }));
    const created = await limits.createLimits(inputs);
    reply.code(201);
    return { limits: created.map((l) => renderLimit(v3(request), l)) };
  });

  app.patch('/v3/limits/:limit_id', { schema: { body: LimitUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_limit');
    const body = memberOf(request.body, 'limit');
    const updated = await limits.updateLimit(paramsOf(request).limit_id ?? '', {
      resourceLimit: typeof body.resource_limit === 'number' ? body.resource_limit : undefined,
      description: optNullable(body, 'description'),
    });
    return { limit: renderLimit(v3(request), updated) };
  });

  app.delete('/v3/limits/:limit_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_limit');
    await limits.deleteLimit(paramsOf(request).limit_id ?? '');
    reply.code(204).send();
  });
}
