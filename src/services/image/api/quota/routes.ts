import type { FastifyInstance } from 'fastify';
import type { ImageApi } from '../context.js';

/** GET /v2/info/usage (Image API 2.13): the caller's project usage and limits; {} without keystone limits. */
export async function usageRoutes(app: FastifyInstance, api: ImageApi): Promise<void> {
  app.get('/v2/info/usage', async (request) => {
    // Glance checks no policy here beyond authentication; get_images is open to every user as well.
    const caller = await api.guard(request, 'get_images');
    return { usage: caller.project ? await api.service.quotas.report(caller.project) : {} };
  });
}
