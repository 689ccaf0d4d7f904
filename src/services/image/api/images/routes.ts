import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CloudError, badRequest } from '../../../../common/errors.js';
import { downloadImage, uploadImage } from '../../data.js';
import { listImages, type Query } from '../../listing.js';
import { applyPatch } from '../../patch.js';
import type { ImageApi } from '../context.js';
import { renderImage } from './view.js';

type Params = { image_id: string };
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

function nextLink(request: FastifyRequest, marker: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query as Query)) {
    if (key === 'marker' || value === undefined) continue;
    for (const v of [value].flat()) params.append(key, v);
  }
  params.append('marker', marker);
  return `/v2/images?${params.toString()}`;
}

/** /v2/images, its data, tags and actions. */
export async function imageRoutes(app: FastifyInstance, api: ImageApi): Promise<void> {
  const { service } = api;
  const view = (image: Parameters<typeof renderImage>[0]) => renderImage(image, service.store.name);

  app.get('/v2/images', async (request) => {
    const caller = await api.guard(request, 'get_images');
    const page = await listImages(service, caller, request.query as Query);
    return {
      images: page.images.map(view),
      first: '/v2/images',
      schema: '/v2/schemas/images',
      ...(page.next ? { next: nextLink(request, page.next) } : {}),
    };
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
    const before = await service.getMutable(caller, request.params.image_id);
    const after = applyPatch(before, request.body);
    return view(await service.save(caller, before, after));
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

  app.put<{ Params: Params }>('/v2/images/:image_id/file', async (request, reply) => {
    const caller = await api.guard(request, 'upload_image');
    const body = request.body;
    if (!(body instanceof Readable)) throw new CloudError('unsupported_media_type', 'Content-Type must be application/octet-stream.');
    const length = request.headers['content-length'] === undefined ? null : Number(request.headers['content-length']);
    await uploadImage(service, caller, request.params.image_id, body, Number.isFinite(length) ? length : null);
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
