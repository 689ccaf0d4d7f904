import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../../common/config/index.js';
import { baseUrl } from '../../../common/http/url.js';

/**
 * What Zed's glance/api/versions.py announces with multiple stores and the image cache
 * enabled: newest first, v2.16 CURRENT, every other v2.x SUPPORTED.
 */
const VERSIONS: [string, string][] = [
  ['2.16', 'CURRENT'], ['2.15', 'SUPPORTED'], ['2.14', 'SUPPORTED'], ['2.13', 'SUPPORTED'], ['2.12', 'SUPPORTED'],
  ['2.11', 'SUPPORTED'], ['2.10', 'SUPPORTED'], ['2.9', 'SUPPORTED'], ['2.8', 'SUPPORTED'], ['2.7', 'SUPPORTED'],
  ['2.6', 'SUPPORTED'], ['2.5', 'SUPPORTED'], ['2.4', 'SUPPORTED'], ['2.3', 'SUPPORTED'], ['2.2', 'SUPPORTED'],
  ['2.1', 'SUPPORTED'], ['2.0', 'SUPPORTED'],
];

export function versionsDocument(request: FastifyRequest, config: Config): { versions: unknown[] } {
  const root = `${baseUrl(request, config.server.public_url)}/image`;
  return { versions: VERSIONS.map(([id, status]) => ({ id: `v${id}`, status, links: [{ rel: 'self', href: `${root}/v2/` }] })) };
}

export function registerVersionRoutes(app: FastifyInstance, config: Config): void {
  // Glance's version negotiation answers the bare root with 300 Multiple Choices.
  app.get('/', async (request, reply) => reply.code(300).send(versionsDocument(request, config)));
  app.get('/versions', async (request) => versionsDocument(request, config));
  app.get('/v2', async (request, reply) => reply.code(300).send(versionsDocument(request, config)));
}
