import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CloudError, notFound } from '../../../../common/errors.js';
import { authOf } from '../../../../common/http/auth.js';
import type { ImportService } from '../../import/service.js';
import type { ImageApi } from '../context.js';

type Params = { image_id: string };

const headerStore = (request: FastifyRequest): string | undefined => {
  const value = request.headers['x-image-meta-store'];
  return typeof value === 'string' ? value.trim() : undefined;
};

/** PUT /v2/images/{id}/stage, POST /v2/images/{id}/import, DELETE /v2/stores/{store}/{id}. */
export async function importRoutes(app: FastifyInstance, api: ImageApi, importer: ImportService): Promise<void> {
  // Glance announces import methods and stores on image create; openstacksdk decides from
  // OpenStack-image-import-methods whether `image create --import` can stage and import.
  app.addHook('onSend', async (request, reply) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/image/v2/images' || reply.statusCode !== 201) return;
    if (importer.methods.length) reply.header('openstack-image-import-methods', importer.methods.join(','));
    reply.header('openstack-image-store-ids', importer.image.stores.entries.map((e) => e.id).join(','));
  });
  app.put<{ Params: Params }>('/v2/images/:image_id/stage', async (request, reply) => {
    const caller = await api.guard(request, 'modify_image');
    if (!importer.methods.includes('glance-direct')) throw notFound("'glance-direct' method is not available at this site.");
    const body = request.body;
    if (!(body instanceof Readable)) throw new CloudError('unsupported_media_type', 'Content-Type must be application/octet-stream.');
    const length = request.headers['content-length'] === undefined ? null : Number(request.headers['content-length']);
    await importer.stage(caller, request.params.image_id, body, Number.isFinite(length) ? length : null);
    return reply.code(204).send();
  });

  app.post<{ Params: Params }>('/v2/images/:image_id/import', async (request, reply) => {
    const caller = await api.guard(request, 'modify_image');
    const auth = authOf(request);
    const body = request.body as { method?: { name?: unknown } } | undefined;
    // copy-image is decided by policy (project admins), the other methods by ownership.
    const mayCopy = body?.method?.name === 'copy-image' ? await api.guard(request, 'copy_image').then(() => true, () => false) : false;
    await importer.importImage(
      { caller, userId: auth.user.id, requestId: request.id, token: auth.token },
      request.params.image_id,
      request.body,
      headerStore(request),
      (rule) => rule === 'copy_image' && mayCopy,
    );
    return reply.code(202).send();
  });

  app.delete<{ Params: { store_id: string; image_id: string } }>('/v2/stores/:store_id/:image_id', async (request, reply) => {
    const caller = await api.guard(request, 'get_image');
    await importer.deleteFromStore(caller, request.params.store_id, request.params.image_id);
    return reply.code(204).send();
  });
}
