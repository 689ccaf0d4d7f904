import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../../../common/errors.js';
import type { ImageCacheFeature } from '../../cache/feature.js';
import type { ImageCache } from '../../cache/image-cache.js';
import type { ImageApi } from '../context.js';

type Params = { image_id: string };

/** /v2/cache (Image API 2.14): list, queue, delete and clear the local image cache. Admin only by default. */
export async function cacheRoutes(app: FastifyInstance, api: ImageApi, feature: ImageCacheFeature): Promise<void> {
  const { service } = api;
  // Glance answers 404 when the site runs without a cache, after the policy check.
  const enabled = (): ImageCache => {
    if (!feature.cache) throw notFound('Caching via API is not supported at this site.');
    return feature.cache;
  };

  app.get('/v2/cache', async (request) => {
    await api.guard(request, 'cache_list');
    const cache = enabled();
    return { cached_images: await cache.list(), queued_images: await cache.queued() };
  });

  app.put<{ Params: Params }>('/v2/cache/:image_id', async (request, reply) => {
    const caller = await api.guard(request, 'cache_image');
    const cache = enabled();
    const image = await service.repo.find(request.params.image_id);
    if (!image || !(await service.visible(caller, image))) throw notFound(`Image ${request.params.image_id} not found.`);
    if (image.status !== 'active') throw badRequest('Only images with status active can be targeted for queueing');
    if (await cache.queue(image.id)) feature.prefetcher?.kick();
    return reply.code(202).send();
  });

  app.delete<{ Params: Params }>('/v2/cache/:image_id', async (request, reply) => {
    const caller = await api.guard(request, 'cache_delete');
    const cache = enabled();
    const id = request.params.image_id;
    const image = await service.repo.find(id);
    const known = image !== null && (await service.visible(caller, image));
    if (!known && !(await cache.isCached(id)) && !(await cache.isQueued(id))) throw notFound(`Image ${id} not found.`);
    await cache.delete(id);
    await cache.dequeue(id);
    return reply.code(204).send();
  });

  app.delete('/v2/cache', async (request, reply) => {
    await api.guard(request, 'cache_delete');
    const cache = enabled();
    const target = String(request.headers['x-image-cache-clear-target'] ?? '').trim().toLowerCase();
    if (target !== '' && target !== 'cache' && target !== 'queue') {
      throw badRequest("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.");
    }
    if (target !== 'queue') await cache.clearCached();
    if (target !== 'cache') await cache.clearQueued();
    return reply.code(204).send();
  });
}
