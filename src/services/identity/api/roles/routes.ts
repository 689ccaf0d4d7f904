import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import type { Role } from '../../model/types.js';
import type { NameFilter, RolePatch } from '../../managers/roles.js';
import { CreateRoleBody, RESERVED_ROLE_KEYS, UpdateRoleBody } from './schemas.js';
import { renderInference, renderRole, renderRoleRef } from './view.js';
import { badRequest } from '../../../../common/errors.js';

interface RoleBody {
  id?: unknown;
  name?: string;
  description?: string;
  domain_id?: string | null;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

type Params = { role_id: string };
type ImplyParams = { prior_role_id: string; implied_role_id: string };

/** First value of a query parameter (repeated keys arrive as arrays). */
export function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function extraOf(body: RoleBody): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !RESERVED_ROLE_KEYS.has(key)));
}

const COMPARATORS: Record<string, NameFilter['op']> = { contains: 'contains', startswith: 'startswith', endswith: 'endswith', equals: 'equals' };

/** `name=x` and Keystone's inexact `name__[i]contains|startswith|endswith|equals=x` filters. */
function nameFilters(request: FastifyRequest): NameFilter[] {
  const out: NameFilter[] = [];
  for (const [key, raw] of Object.entries(request.query as Record<string, unknown>)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== 'string') continue;
    if (key === 'name') {
      out.push({ op: 'equals', value, caseSensitive: true });
      continue;
    }
    const match = /^name__(i?)(\w+)$/.exec(key);
    const op = match ? COMPARATORS[match[2] as string] : undefined;
    if (match && op) out.push({ op, value, caseSensitive: match[1] === '' });
  }
  return out;
}

/** /v3/roles, implied roles (/v3/roles/{prior}/implies/...) and /v3/role_inferences. */
export async function roleRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const roleTarget = (role: Role) => ({ target: { role: { id: role.id, name: role.name, domain_id: role.domainId } } });

  /**
   * Keystone enforces the global-role rule when the role is missing (so existence doesn't leak)
   * and the domain-role rule, with the role as target, when it is domain-specific.
   */
  const guardRole = async (request: FastifyRequest, id: string, action: 'get' | 'update' | 'delete'): Promise<Role> => {
    await api.authenticate(request);
    let role: Role;
    try {
      role = await service.roles.getRole(id);
    } catch (err) {
      api.authorize(request, `identity:${action}_role`);
      throw err;
    }
    if (role.domainId) api.authorize(request, `identity:${action}_domain_role`, roleTarget(role));
    else api.authorize(request, `identity:${action}_role`);
    return role;
  };

  app.get('/v3/roles', async (request) => {
    const domainId = queryValue(request, 'domain_id');
    await api.guard(request, domainId ? 'identity:list_domain_roles' : 'identity:list_roles');
    const roles = await service.roles.listRoles({ domainId: domainId || null, names: nameFilters(request) });
    const limit = api.config.identity.list_limit;
    const truncated = limit !== undefined && limit !== null && roles.length > limit;
    const shown = truncated ? roles.slice(0, limit) : roles;
    const v3 = api.v3Url(request);
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return {
      roles: shown.map((r) => renderRole(v3, r)),
      links: { self: `${v3}/roles${query}`, previous: null, next: null },
      ...(truncated ? { truncated: true } : {}),
    };
  });

  app.post('/v3/roles', { schema: { body: CreateRoleBody } }, async (request, reply) => {
    const body = (request.body as { role: RoleBody }).role;
    await api.guard(request, body.domain_id ? 'identity:create_domain_role' : 'identity:create_role');
    const role = await service.roles.createRole({
      name: body.name as string,
      domainId: body.domain_id ?? null,
      description: body.description ?? null,
      options: body.options ?? {},
      extra: extraOf(body),
    });
    reply.code(201);
    return { role: renderRole(api.v3Url(request), role) };
  });

  app.get<{ Params: Params }>('/v3/roles/:role_id', async (request) => {
    const role = await guardRole(request, request.params.role_id, 'get');
    return { role: renderRole(api.v3Url(request), role) };
  });

  app.patch<{ Params: Params }>('/v3/roles/:role_id', { schema: { body: UpdateRoleBody } }, async (request) => {
    const { role_id: id } = request.params;
    await guardRole(request, id, 'update');
    const body = (request.body as { role: RoleBody }).role;
    if (body.id !== undefined && body.id !== id) throw badRequest('Cannot change ID');
    const patch: RolePatch = { extra: extraOf(body) };
    if (body.name !== undefined) patch.name = body.name;
    if (body.description !== undefined) patch.description = body.description;
    if (body.options !== undefined) patch.options = body.options;
    if ('domain_id' in body) patch.domainId = body.domain_id ?? null;
    const role = await service.roles.updateRole(id, patch);
    return { role: renderRole(api.v3Url(request), role) };
  });

  app.delete<{ Params: Params }>('/v3/roles/:role_id', async (request, reply) => {
    await guardRole(request, request.params.role_id, 'delete');
    await service.roles.deleteRole(request.params.role_id);
    reply.code(204).send();
  });

  // Implied roles. Keystone resolves both roles (404) before enforcing the rule.
  const implyTarget = async (request: FastifyRequest, priorId: string, impliedId?: string) => {
    await api.authenticate(request);
    const prior = await service.roles.getRole(priorId);
    const implied = impliedId !== undefined ? await service.roles.getRole(impliedId) : undefined;
    const target: Record<string, unknown> = { prior_role: { id: prior.id, name: prior.name, domain_id: prior.domainId } };
    if (implied) target.implied_role = { id: implied.id, name: implied.name, domain_id: implied.domainId };
    return { target };
  };

  const inferenceBody = (request: FastifyRequest, prior: Role, implied: Role) => {
    const v3 = api.v3Url(request);
    return {
      role_inference: { prior_role: renderRoleRef(v3, prior), implies: renderRoleRef(v3, implied) },
      links: { self: `${v3}/roles/${prior.id}/implies/${implied.id}` },
    };
  };

  app.get<{ Params: { prior_role_id: string } }>('/v3/roles/:prior_role_id/implies', async (request) => {
    const { prior_role_id: priorId } = request.params;
    api.authorize(request, 'identity:list_implied_roles', await implyTarget(request, priorId));
    const inference = await service.roles.listImplied(priorId);
    const v3 = api.v3Url(request);
    return { role_inference: renderInference(v3, inference), links: { self: `${v3}/roles/${priorId}/implies` } };
  });

  app.put<{ Params: ImplyParams }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const { prior_role_id: priorId, implied_role_id: impliedId } = request.params;
    api.authorize(request, 'identity:create_implied_role', await implyTarget(request, priorId, impliedId));
    const { prior, implied } = await service.roles.createImplied(priorId, impliedId);
    reply.code(201);
    return inferenceBody(request, prior, implied);
  });

  // HEAD is declared before GET so Fastify doesn't derive a 200 HEAD from it: Keystone answers 204.
  app.head<{ Params: ImplyParams }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const { prior_role_id: priorId, implied_role_id: impliedId } = request.params;
    const target = await implyTarget(request, priorId, impliedId);
    api.authorize(request, 'identity:check_implied_role', target);
    api.authorize(request, 'identity:get_implied_role', target);
    await service.roles.getImplied(priorId, impliedId);
    reply.code(204).send();
  });

  app.get<{ Params: ImplyParams }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request) => {
    const { prior_role_id: priorId, implied_role_id: impliedId } = request.params;
    api.authorize(request, 'identity:get_implied_role', await implyTarget(request, priorId, impliedId));
    const { prior, implied } = await service.roles.getImplied(priorId, impliedId);
    return inferenceBody(request, prior, implied);
  });

  app.delete<{ Params: ImplyParams }>('/v3/roles/:prior_role_id/implies/:implied_role_id', async (request, reply) => {
    const { prior_role_id: priorId, implied_role_id: impliedId } = request.params;
    api.authorize(request, 'identity:delete_implied_role', await implyTarget(request, priorId, impliedId));
    await service.roles.deleteImplied(priorId, impliedId);
    reply.code(204).send();
  });

  app.get('/v3/role_inferences', async (request) => {
    await api.guard(request, 'identity:list_role_inference_rules');
    const rules = await service.roles.listInferenceRules();
    const v3 = api.v3Url(request);
    // Keystone's body has no collection links here.
    return { role_inferences: rules.map((r) => renderInference(v3, r)) };
  });
}
