import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, CloudError } from '../../../../common/errors.js';
import { DEFAULT_DOMAIN_ID } from '../../store/tables.js';
import type { Project, User } from '../../model/types.js';
import type { UserFilters, UserPatch } from '../../managers/users.js';
import type { IdentityApi } from '../context.js';
import { renderGroupMembership } from '../groups/view.js';
import { ChangePasswordBody, CreateUserBody, RESERVED_USER_KEYS, UpdateUserBody } from './schemas.js';
import { attrAsBoolean, collection, inexactFilters, matchesInexact, passwordExpiryFilters, queryValue, queryValues } from './listing.js';
import { renderUser } from './view.js';

interface UserBody {
  id?: string;
  name?: string;
  domain_id?: string;
  enabled?: boolean;
  password?: string | null;
  default_project_id?: string | null;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

type Params = { user_id: string };

/** Keystone's _normalize_dict: ':' and '-' in attribute names become '_' on create. */
function normalizeKeys(body: UserBody): UserBody {
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.replace(/[:-]/g, '_'), v])) as UserBody;
}

/** Nubes has no identity providers, so any federated object names an unknown one (Keystone: 400). */
function refuseFederated(body: UserBody): void {
  const federated = body.federated as { idp_id: string }[] | undefined;
  if (federated?.length) throw badRequest(`Could not find Identity Provider: ${federated[0]?.idp_id}`);
}

function extrasOf(body: UserBody): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !RESERVED_USER_KEYS.has(key)));
}

/** The user-list filters shared by /v3/users and /v3/groups/{id}/users. */
export function userListFilters(request: FastifyRequest): UserFilters {
  const filters: UserFilters = {};
  const domainId = queryValue(request, 'domain_id');
  const name = queryValue(request, 'name');
  const enabled = queryValue(request, 'enabled');
  if (domainId !== undefined) filters.domainId = domainId;
  if (name !== undefined) filters.name = name;
  if (enabled !== undefined) filters.enabled = attrAsBoolean(enabled);
  const expiry = passwordExpiryFilters(request);
  if (expiry.length) filters.passwordExpires = expiry;
  return filters;
}

/** /v3/users, the self-service password change and a user's groups and projects. */
export async function userRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const render = (request: FastifyRequest, user: User, withExtraDict = false) => renderUser(api.v3Url(request), user, { withExtraDict });

  /** Keystone's _build_user_target_enforcement: the user (when it exists) plus the URL's user_id. */
  const userTarget = async (userId: string) => {
    const row = await service.users.findRow(userId);
    if (!row) return { user_id: userId };
    const user = { id: row.id, name: row.name, domain_id: row.domain_id, enabled: row.enabled === 1, default_project_id: row.default_project_id };
    return { user_id: userId, target: { user } };
  };

  app.get('/v3/users', async (request) => {
    const ctx = await api.authenticate(request);
    api.authorize(request, 'identity:list_users', ctx.domain ? { domain_id: ctx.domain.id } : {});
    const filters = userListFilters(request);
    const inexact = inexactFilters(request, ['name']);
    // Keystone only lists federated users for these filters; there are none here.
    const federated = ['idp_id', 'protocol_id', 'unique_id'].some((k) => queryValues(request, k).length > 0);
    let users = federated ? [] : await service.users.list(filters);
    if (ctx.domain) users = users.filter((u) => u.domainId === ctx.domain?.id);
    const items = users.map((u) => render(request, u)).filter((u) => matchesInexact(u, inexact));
    return collection(api, request, 'users', '/users', items);
  });

  app.post('/v3/users', { schema: { body: CreateUserBody } }, async (request, reply) => {
    const body = normalizeKeys((request.body as { user: UserBody }).user);
    const ctx = await api.guard(request, 'identity:create_user', { target: { user: { ...body, password: undefined } } });
    // Keystone's _normalize_domain_id: the domain-scoped token's domain, else the default domain.
    const domainId = body.domain_id || ctx.domain?.id || DEFAULT_DOMAIN_ID;
    refuseFederated(body);
    const user = await service.users.create({
      name: body.name as string,
      domainId,
      enabled: body.enabled,
      password: body.password,
      defaultProjectId: body.default_project_id,
      options: body.options,
      extra: extrasOf(body),
    });
    reply.code(201);
    return { user: render(request, user) };
  });

  app.get<{ Params: Params }>('/v3/users/:user_id', async (request) => {
    const { user_id: userId } = request.params;
    await api.guard(request, 'identity:get_user', await userTarget(userId));
    return { user: render(request, await service.users.getUser(userId)) };
  });

  app.patch<{ Params: Params }>('/v3/users/:user_id', { schema: { body: UpdateUserBody } }, async (request) => {
    const { user_id: userId } = request.params;
    await api.guard(request, 'identity:update_user', await userTarget(userId));
    await service.users.getUser(userId);
    const body = (request.body as { user: UserBody }).user;
    if (body.id !== undefined && body.id !== null && body.id !== userId) throw badRequest('Cannot change ID');
    refuseFederated(body);
    const patch: UserPatch = { extra: extrasOf(body) };
    if (body.name !== undefined) patch.name = body.name;
    if (body.domain_id !== undefined) patch.domainId = body.domain_id;
    if (body.enabled !== undefined) patch.enabled = body.enabled;
    if (body.password !== undefined) patch.password = body.password;
    if (body.default_project_id !== undefined) patch.defaultProjectId = body.default_project_id;
    if (body.options !== undefined) patch.options = body.options;
    const user = await service.users.update(userId, patch);
    return { user: render(request, user, true) };
  });

  app.delete<{ Params: Params }>('/v3/users/:user_id', async (request, reply) => {
    const { user_id: userId } = request.params;
    await api.guard(request, 'identity:delete_user', await userTarget(userId));
    await service.users.delete(userId);
    reply.code(204).send();
  });

  // Keystone leaves this route unenforced: the original password is the credential, no token is needed.
  app.post<{ Params: Params }>('/v3/users/:user_id/password', { schema: { body: ChangePasswordBody } }, async (request, reply) => {
    const { user } = request.body as { user: { original_password: string; password: string } };
    await service.users.changePassword(request.params.user_id, user.original_password, user.password);
    reply.code(204).send();
  });

  app.get('/v3/users/:user_id/password', async () => {
    throw new CloudError('method_not_allowed', 'The method is not allowed for the requested URL.');
  });

  app.get<{ Params: Params }>('/v3/users/:user_id/groups', async (request) => {
    const { user_id: userId } = request.params;
    const ctx = await api.guard(request, 'identity:list_groups_for_user', await userTarget(userId));
    const name = queryValue(request, 'name');
    let groups = await service.groups.listForUser(userId, name !== undefined ? { name } : {});
    if (ctx.domain) groups = groups.filter((g) => g.domainId === ctx.domain?.id);
    const inexact = inexactFilters(request, ['name']);
    const items = groups.map((g) => renderGroupMembership(api.v3Url(request), g)).filter((g) => matchesInexact(g, inexact));
    return collection(api, request, 'groups', `/users/${userId}/groups`, items);
  });

  app.get<{ Params: Params }>('/v3/users/:user_id/projects', async (request) => {
    const { user_id: userId } = request.params;
    await api.guard(request, 'identity:list_user_projects', await userTarget(userId));
    const projects: Project[] = [];
    for (const id of await service.assignments.projectIdsWithRoles(userId)) {
      const row = await service.resource.findProjectRow(id);
      if (row && row.is_domain === 0) projects.push(await service.resource.getProject(id));
    }
    const domainId = queryValue(request, 'domain_id');
    const name = queryValue(request, 'name');
    const enabled = queryValue(request, 'enabled');
    const inexact = inexactFilters(request, ['name']);
    const items = projects
      .filter((p) => (domainId === undefined || p.domainId === domainId) && (name === undefined || p.name === name) && (enabled === undefined || p.enabled === attrAsBoolean(enabled)))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => api.views.project(request, p))
      .filter((p) => matchesInexact(p, inexact));
    return collection(api, request, 'projects', `/users/${userId}/projects`, items);
  });
}
