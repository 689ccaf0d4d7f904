import type { FastifyInstance } from 'fastify';
import type { ServiceDeps, ServiceInstance, ServiceModule } from '../../common/service.js';
import { ConfigError, type Config } from '../../common/config/index.js';
import { IMAGE_OPTIONS } from './config.js';
import { acceptJsonBodies } from '../../common/http/json-body.js';
import { rejectNulBytes } from '../../common/http/nul-guard.js';
import { IMAGE_MIGRATIONS } from './store/migrations/index.js';
import { IMAGE_POLICIES } from './policies.js';
import { ImageService } from './service.js';
import { registerImageFaults } from './api/faults.js';
import { registerVersionRoutes } from './api/versions.js';
import { ImageApi } from './api/context.js';
import { imageRoutes } from './api/images/routes.js';
import { memberRoutes } from './api/members/routes.js';
import { schemaRoutes } from './api/schemas/routes.js';
import { metadefRoutes } from './api/metadefs/routes.js';
import { cacheRoutes } from './api/cache/routes.js';
import { usageRoutes } from './api/quota/routes.js';
import { ImageCacheFeature } from './cache/feature.js';
import { ImportService } from './import/service.js';
import { importRoutes } from './api/import/routes.js';
import { taskRoutes } from './api/tasks/routes.js';
import { infoRoutes } from './api/info/routes.js';

export interface ImageInstance extends ServiceInstance {
  service: ImageService;
}

export async function createImage(deps: ServiceDeps): Promise<ImageInstance> {
  checkJoinedProcess(deps.config);
  const service = new ImageService(deps);
  const api = new ImageApi(service, deps.tokens, deps.policy);
  const importer = new ImportService(service);
  const cache = new ImageCacheFeature(service, deps);
  service.cache = cache;
  return {
    service,
    jobHandlers: [...service.jobHandlers(), ...importer.jobHandlers()],
    async routes(app: FastifyInstance) {
      // The swift store and glance-download call the cloud's own APIs through this app.
      service.http.attach(app);
      acceptJsonBodies(app);
      // Image data is streamed to the store as it arrives, never parsed or buffered.
      app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
      registerImageFaults(app);
      rejectNulBytes(app);
      registerVersionRoutes(app, deps.config);
      await imageRoutes(app, api);
      await memberRoutes(app, api);
      await schemaRoutes(app, api);
      await importRoutes(app, api, importer);
      await taskRoutes(app, api, importer);
      await infoRoutes(app, api, importer, deps.tokens);
      await metadefRoutes(app, api, deps);
      await cacheRoutes(app, api, cache);
      await usageRoutes(app, api);
    },
    async start() {
      // Only the process that owns the data (embedded SQLite, not an extra process started with
      // server.join) may reap; with PostgreSQL or a joined process others may be mid-upload.
      if (deps.db.engine === 'sqlite' && !deps.config.server.join) await service.reconcile();
      await cache.start();
    },
    async stop() {
      await cache.stop();
    },
  };
}

/**
 * A joined process shares the data dir; on the first process's staging area it would take over
 * staged images it cannot import, and on its cache the start-up sweep would remove the other's
 * downloads in progress. It must also name itself apart as a stage host.
 */
function checkJoinedProcess(config: Config): void {
  if (!config.server.join) return;
  if (config.image.staging_dir === IMAGE_OPTIONS.staging_dir.default) {
    throw new ConfigError('server.join: set image.staging_dir to a directory of this process (the first one uses the default)');
  }
  if (config.server.public_url && !config.image.worker_self_reference_url) {
    // Behind a shared public URL both processes would name themselves alike as stage hosts.
    throw new ConfigError('server.join: with server.public_url set, set image.worker_self_reference_url to this process\'s own URL');
  }
  if (config.image.image_cache_enabled && !config.image.image_cache_dir) {
    throw new ConfigError('server.join: set image.image_cache_dir to a directory of this process, or image.image_cache_enabled=false');
  }
}

export const IMAGE_SERVICE: ServiceModule = {
  name: 'image',
  prefix: '/image',
  catalog: { type: 'image', name: 'glance', description: 'OpenStack Image', path: '/image' },
  migrations: IMAGE_MIGRATIONS,
  policies: IMAGE_POLICIES,
  create: createImage,
};
