import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../../../common/errors.js';
import { DEFAULT_DOMAIN_ID } from '../../store/tables.js';
import type { GroupEntity, GroupPatch } from '../../managers/groups.js';
import type { IdentityApi } from '../context.js';
import { collection, inexactFilters, matchesInexact, queryValue } from '../users/listing.js';
import { userListFilters } from '../users/routes.js';
import { renderUser } from '../users/view.js';
import { CreateGroupBody, RESERVED_GROUP_KEYS, UpdateGroupBody } from './schemas.js';
import { renderGroup } from './view.js';

interface GroupBody {
  id?: string;
  name?: string;
  domain_id?: string;
  description?: string | null;
  [key: string]: unknown;
}

type Params = { group_id: string };
type MemberParams = { group_id: string; user_id: string };

function extrasOf(body: GroupBody): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !RESERVED_GROUP_KEYS.has(key)));
}

/** /v3/groups and group membership. */
export async function groupRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const render = (request: FastifyRequest, group: GroupEntity) => renderGroup(api.v3Url(request), group);

  /** Keystone's _build_group_target_enforcement: the group when it exists. */
  const groupTarget = async (groupId: string): Promise<Record<string, unknown>> => {
    const row = await service.groups.findRow(groupId);
    return row ? { group_id: groupId, target: { group: { id: row.id, name: row.name, domain_id: row.domain_id } } } : { group_id: groupId };
  };
  const memberTarget = async (groupId: string, userId: string): Promise<Record<string, unknown>> => {
    const group = await service.groups.findRow(groupId);
    const user = await service.users.findRow(userId);
    return {
      group_id: groupId,
      user_id: userId,
      target: {
        ...(group ? { group: { id: group.id, name: group.name, domain_id: group.domain_id } } : {}),
        ...(user ? { user: { id: user.id, name: user.name, domain_id: user.domain_id } } : {}),
      },
    };
  };

  app.get('/v3/groups', async (request) => {
    const ctx = await api.authenticate(request);
    api.authorize(request, 'identity:list_groups', ctx.domain ? { target: { group: { domain_id: ctx.domain.id } } } : {});
    const domainId = queryValue(request, 'domain_id');
    const name = queryValue(request, 'name');
    let groups = await service.groups.list({ ...(domainId !== undefined ? { domainId } : {}), ...(name !== undefined ? { name } : {}) });
    if (ctx.domain) groups = groups.filter((g) => g.domainId === ctx.domain?.id);
    const inexact = inexactFilters(request, ['name']);
    return collection(api, request, 'groups', '/groups', groups.map((g) => render(request, g)).filter((g) => matchesInexact(g, inexact)));
  });

  app.post('/v3/groups', { schema: { body: CreateGroupBody } }, async (request, reply) => {
    const raw = (request.body as { group: GroupBody }).group;
    const body = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/[:-]/g, '_'), v])) as GroupBody;
    const ctx = await api.guard(request, 'identity:create_group', { target: { group: body } });
    const group = await service.groups.create({
      name: body.name as string,
      domainId: body.domain_id || ctx.domain?.id || DEFAULT_DOMAIN_ID,
      description: body.description,
      extra: extrasOf(body),
    });
    reply.code(201);
    return { group: render(request, group) };
  });

  app.get<{ Params: Params }>('/v3/groups/:group_id', async (request) => {
    const { group_id: groupId } = request.params;
    await api.guard(request, 'identity:get_group', await groupTarget(groupId));
    return { group: render(request, await service.groups.getGroup(groupId)) };
  });

  app.patch<{ Params: Params }>('/v3/groups/:group_id', { schema: { body: UpdateGroupBody } }, async (request) => {
    const { group_id: groupId } = request.params;
    await api.guard(request, 'identity:update_group', await groupTarget(groupId));
    const body = (request.body as { group: GroupBody }).group;
    if (body.id !== undefined && body.id !== null && body.id !== groupId) throw badRequest('Cannot change ID');
    const patch: GroupPatch = { extra: extrasOf(body) };
    if (body.name !== undefined) patch.name = body.name;
    if (body.domain_id !== undefined) patch.domainId = body.domain_id;
    if (body.description !== undefined) patch.description = body.description;
    return { group: render(request, await service.groups.update(groupId, patch)) };
  });

  app.delete<{ Params: Params }>('/v3/groups/:group_id', async (request, reply) => {
    const { group_id: groupId } = request.params;
    await api.guard(request, 'identity:delete_group', await groupTarget(groupId));
    await service.groups.delete(groupId);
    reply.code(204).send();
  });

  app.get<{ Params: Params }>('/v3/groups/:group_id/users', async (request) => {
    const { group_id: groupId } = request.params;
    const ctx = await api.guard(request, 'identity:list_users_in_group', await groupTarget(groupId));
    await service.groups.getGroup(groupId);
    let users = await service.users.list({ ...userListFilters(request), groupId });
    if (ctx.domain) users = users.filter((u) => u.domainId === ctx.domain?.id);
    const inexact = inexactFilters(request, ['name']);
    const items = users.map((u) => renderUser(api.v3Url(request), u)).filter((u) => matchesInexact(u, inexact));
    return collection(api, request, 'users', `/groups/${groupId}/users`, items);
  });

  // GET doubles as HEAD (Fastify derives it); both answer 204 when the user is a member.
  app.get<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const { group_id: groupId, user_id: userId } = request.params;
    await api.guard(request, 'identity:check_user_in_group', await memberTarget(groupId, userId));
    await service.groups.checkUser(groupId, userId);
    reply.code(204).send();
  });

  app.put<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const { group_id: groupId, user_id: userId } = request.params;
    await api.guard(request, 'identity:add_user_to_group', await memberTarget(groupId, userId));
    await service.groups.addUser(groupId, userId);
    reply.code(204).send();
  });

  app.delete<{ Params: MemberParams }>('/v3/groups/:group_id/users/:user_id', async (request, reply) => {
    const { group_id: groupId, user_id: userId } = request.params;
    await api.guard(request, 'identity:remove_user_from_group', await memberTarget(groupId, userId));
    await service.groups.removeUser(groupId, userId);
    reply.code(204).send();
  });
}
