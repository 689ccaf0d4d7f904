import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../../common/config/index.js';
import { baseUrl } from '../../../common/http/url.js';

const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];
const V3_UPDATED = '2022-09-07T00:00:00Z';

function v3(request: FastifyRequest, config: Config): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: V3_UPDATED,
    links: [{ rel: 'self', href: `${baseUrl(request, config.server.public_url)}/identity/v3/` }],
    'media-types': MEDIA_TYPES,
  };
}

/**
 * Version discovery as Keystone answers it: GET /identity lists versions with 300,
 * GET /identity/v3 describes v3. A deprecated v2.0 entry lets old clients find v3.
 */
export function registerVersionRoutes(app: FastifyInstance, config: Config): void {
  app.get('/', async (request, reply) => {
    const base = baseUrl(request, config.server.public_url);
    const v2 = {
      id: 'v2.0',
      status: 'deprecated',
      updated: '2016-08-04T00:00:00Z',
      links: [
        { rel: 'self', href: `${base}/identity/v2.0/` },
        { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v2.0+json' }],
    };
    reply.code(300).header('location', `${base}/identity/v3/`);
    return { versions: { values: [v3(request, config), v2] } };
  });
  app.get('/v3', async (request) => ({ version: v3(request, config) }));
  app.get('/v2.0', async (request) => {
    const base = baseUrl(request, config.server.public_url);
    return {
      version: {
        id: 'v2.0',
        status: 'deprecated',
        updated: '2016-08-04T00:00:00Z',
        links: [{ rel: 'self', href: `${base}/identity/v2.0/` }],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v2.0+json' }],
      },
    };
  });
}
