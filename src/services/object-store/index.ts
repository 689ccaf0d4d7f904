import type { FastifyInstance } from 'fastify';
import type { ServiceDeps, ServiceInstance, ServiceModule } from '../../common/service.js';
import { OBJECT_STORE_POLICIES } from './policies.js';
import { createCluster, ObjectStoreService } from './service.js';
import { registerSwiftFaults } from './api/faults.js';
import { ObjectStoreApi } from './api/context.js';
import { rawBodies, registerSwiftRoutes } from './api/routes.js';
import type { StorageCluster } from './storage/types.js';
import { registerS3Routes } from './s3/index.js';
import { stopClusterIfLocal } from './storage/local/from-config.js';
import { LocalCluster } from './storage/local/cluster.js';
import { startContainerSync } from './workers/index.js';

export interface ObjectStoreInstance extends ServiceInstance {
  service: ObjectStoreService;
}

export async function createObjectStore(deps: ServiceDeps, cluster?: StorageCluster): Promise<ObjectStoreInstance> {
  const service = new ObjectStoreService(deps, cluster ?? (await createCluster(deps)));
  const api = new ObjectStoreApi(service);
  let stopSync: (() => Promise<void>) | undefined;
  return {
    service,
    // The container-sync daemon sends HTTP to its targets, so it starts with the API, on the on-disk cluster only.
    async start() {
      const c = service.config;
      if (service.cluster instanceof LocalCluster && c.container_sync_interval > 0) {
        stopSync = startContainerSync(
          { cluster: service.cluster, realms: service.syncRealms, allowFullUrls: c.container_sync_allow_full_urls, containerTimeMs: c.container_sync_container_time * 1000, timeoutMs: c.node_timeout * 1000, warn: (fields, msg) => deps.log.warn(fields, msg) },
          c.container_sync_interval,
          (err) => deps.log.warn({ err }, 'container sync pass failed'),
        );
      }
    },
    // Stops the storage daemons and closes the per-account/container databases.
    stop: async () => {
      await stopSync?.();
      await stopClusterIfLocal(service.cluster);
    },
    async routes(app: FastifyInstance) {
      rawBodies(app);
      registerSwiftFaults(app);
      await registerSwiftRoutes(app, api);
      // The S3 API (s3api) at /object-store/s3, path-style; its own faults, bodies and auth.
      const ec2 = deps.ec2;
      if (ec2) {
        const operatorRoles = service.config.operator_roles.split(',').map((r) => r.trim()).filter(Boolean);
        await registerS3Routes(app, { cluster: service.cluster, lookupAccessKey: (access) => ec2.ec2Secret(access), clock: deps.clock, config: { operatorRoles, maxObjectSize: service.config.max_file_size } });
      }
    },
  };
}

export const OBJECT_STORE_SERVICE: ServiceModule = {
  name: 'object-store',
  prefix: '/object-store',
  catalog: { type: 'object-store', name: 'swift', description: 'OpenStack Object Storage', path: '/object-store/v1/AUTH_$(project_id)s' },
  migrations: {},
  policies: OBJECT_STORE_POLICIES,
  create: (deps) => createObjectStore(deps),
};
