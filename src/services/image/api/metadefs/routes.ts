import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../../../../common/service.js';
import { MetadefService } from '../../metadefs/service.js';
import type { ImageApi } from '../context.js';
import { namespaceContentRoutes } from './contents.js';
import { MetadefApi } from './context.js';
import { namespaceRoutes } from './namespaces.js';
import { metadefSchemaRoutes } from './schemas.js';

/** Every /v2/metadefs and /v2/schemas/metadefs route. */
export async function metadefRoutes(app: FastifyInstance, images: ImageApi, deps: ServiceDeps): Promise<void> {
  const api = new MetadefApi(images, new MetadefService(deps), deps.config.image);
  await namespaceRoutes(app, api);
  await namespaceContentRoutes(app, api);
  await metadefSchemaRoutes(app, api);
}
