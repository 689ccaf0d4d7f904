import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../../../common/errors.js';
import type { ImageApi } from '../context.js';
import { renderMember } from '../images/view.js';

type Params = { image_id: string };
type MemberParams = { image_id: string; member_id: string };

/** /v2/images/{id}/members: sharing an image with other projects. */
export async function memberRoutes(app: FastifyInstance, api: ImageApi): Promise<void> {
  const { service } = api;

  app.get<{ Params: Params }>('/v2/images/:image_id/members', async (request) => {
    const caller = await api.guard(request, 'get_members');
    const members = await service.listMembers(caller, request.params.image_id);
    return { members: members.map(renderMember), schema: '/v2/schemas/members' };
  });

  app.post<{ Params: Params }>('/v2/images/:image_id/members', async (request) => {
    const caller = await api.guard(request, 'add_member');
    const body = request.body as { member?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || typeof body.member !== 'string' || body.member === '') throw badRequest('Member to be added not specified');
    return renderMember(await service.addMember(caller, request.params.image_id, body.member));
  });

  app.get<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const caller = await api.guard(request, 'get_member');
    return renderMember(await service.getMember(caller, request.params.image_id, request.params.member_id));
  });

  app.put<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const caller = await api.guard(request, 'modify_member');
    const body = request.body as { status?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || !('status' in body)) throw badRequest('Status not specified');
    return renderMember(await service.updateMember(caller, request.params.image_id, request.params.member_id, body.status));
  });

  app.delete<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request, reply) => {
    const caller = await api.guard(request, 'delete_member');
    await service.deleteMember(caller, request.params.image_id, request.params.member_id);
    return reply.code(204).send();
  });
}
