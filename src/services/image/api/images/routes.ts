import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CloudError, badRequest, notFound } from '../../../../common/errors.js';
import { downloadImage, uploadImage } from '../../data.js';
import { assertDecodableQuery, listImages, pageLinks, type Query } from '../../listing.js';
import { updateImage } from '../../locations/update.js';
import { withLocations } from '../../locations/view.js';
import type { Image } from '../../model/image.js';
import type { ImageApi } from '../context.js';
import { renderImage } from './view.js';

type Params = { image_id: string };
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

/**
 * Glance reads image data only as application/octet-stream: any other type is 415 (after the
 * token and policy checks, as Glance orders them), decided before a parser touches the body.
 */
export function octetStreamOnly(api: ImageApi, rule: string): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (type === 'application/octet-stream') return;
    await api.guard(request, rule);
    throw new CloudError('unsupported_media_type', `Invalid content type ${type}`);
  };
}

/** /v2/images, its data, tags and actions. */
export async function imageRoutes(app: FastifyInstance, api: ImageApi): Promise<void> {
  const { service } = api;
  const view = (image: Image) => withLocations(renderImage(image), image, service.config);

  app.get('/v2/images', async (request) => {
    const caller = await api.guard(request, 'get_images');
    // The router ignores trailing slashes; Glance has no /v2/images/ (an empty image id): 404.
    if ((request.raw.url ?? '').split('?')[0]?.endsWith('/')) throw notFound('The resource could not be found.');
    assertDecodableQuery(request.raw.url ?? '');
    const query = request.query as Query;
    const page = await listImages(service, caller, query);
    const { first, next } = pageLinks(query, page.next);
    return { images: page.images.map(view), first, schema: '/v2/schemas/images', ...(next ? { next } : {}) };
  });

  app.post('/v2/images', async (request, reply) => {
    const caller = await api.guard(request, 'add_image');
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Body expected in request.');
    const image = await service.create(caller, body as Record<string, unknown>);
    reply.code(201).header('location', `/v2/images/${image.id}`);
    return view(image);
  });

  app.get<{ Params: Params }>('/v2/images/:image_id', async (request) => {
    const caller = await api.guard(request, 'get_image');
    return view(await service.get(caller, request.params.image_id));
  });

  app.patch<{ Params: Params }>('/v2/images/:image_id', async (request) => {
    const type = String(request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!PATCH_TYPES.includes(type)) {
      throw new CloudError('unsupported_media_type', `Unsupported Content-Type; expected one of ${PATCH_TYPES.join(', ')}`);
    }
    const caller = await api.guard(request, 'modify_image');
    const draft = type === 'application/openstack-images-v2.0-json-patch' ? 4 : 10;
    const authorize = async (rule: string) => void (await api.guard(request, rule));
    return view(await updateImage(service, caller, request.params.image_id, request.body, draft, authorize));
  });

  app.delete<{ Params: Params }>('/v2/images/:image_id', async (request, reply) => {
    const caller = await api.guard(request, 'delete_image');
    await service.delete(caller, request.params.image_id);
    return reply.code(204).send();
  });

  app.post<{ Params: Params }>('/v2/images/:image_id/actions/deactivate', async (request, reply) => {
    const caller = await api.guard(request, 'deactivate');
    await service.deactivate(caller, request.params.image_id);
    return reply.code(204).send();
  });

  app.post<{ Params: Params }>('/v2/images/:image_id/actions/reactivate', async (request, reply) => {
    const caller = await api.guard(request, 'reactivate');
    await service.reactivate(caller, request.params.image_id);
    return reply.code(204).send();
  });

  app.put<{ Params: Params & { tag: string } }>('/v2/images/:image_id/tags/:tag', async (request, reply) => {
    const caller = await api.guard(request, 'modify_image');
    await service.addTag(caller, request.params.image_id, request.params.tag);
    return reply.code(204).send();
  });

  app.delete<{ Params: Params & { tag: string } }>('/v2/images/:image_id/tags/:tag', async (request, reply) => {
    const caller = await api.guard(request, 'modify_image');
    await service.removeTag(caller, request.params.image_id, request.params.tag);
    return reply.code(204).send();
  });

  app.put<{ Params: Params }>('/v2/images/:image_id/file', { onRequest: octetStreamOnly(api, 'upload_image') }, async (request, reply) => {
    const caller = await api.guard(request, 'upload_image');
    const body = request.body;
    if (!(body instanceof Readable)) throw new CloudError('unsupported_media_type', 'Content-Type must be application/octet-stream.');
    const length = request.headers['content-length'] === undefined ? null : Number(request.headers['content-length']);
    const store = request.headers['x-image-meta-store'];
    await uploadImage(service, caller, request.params.image_id, body, Number.isFinite(length) ? length : null, typeof store === 'string' ? store.trim() : undefined);
    return reply.code(204).send();
  });

  app.get<{ Params: Params }>('/v2/images/:image_id/file', async (request, reply) => {
    const caller = await api.guard(request, 'download_image');
    const image = await service.get(caller, request.params.image_id);
    const range = request.headers.range;
    const result = await downloadImage(service, caller, image, typeof range === 'string' ? range : undefined);
    reply.code(result.status).headers(result.headers);
    return result.stream ? reply.send(result.stream) : reply.send();
  });
}
