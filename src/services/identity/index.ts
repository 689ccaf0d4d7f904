import type { FastifyInstance } from 'fastify';
import type { CatalogRegistration, ServiceDeps, ServiceInstance, ServiceModule } from '../../common/service.js';
import type { Ec2SecretResolver, LimitReader, TokenValidator } from '../../common/auth/index.js';
import { UnifiedLimitReader } from './limit-reader.js';
import { acceptJsonBodies } from '../../common/http/json-body.js';
import { rejectNulBytes } from '../../common/http/nul-guard.js';
import { IDENTITY_MIGRATIONS } from './store/migrations/index.js';
import { IDENTITY_POLICIES } from './policies.js';
import { IdentityService } from './service.js';
import { bootstrapIdentity, type BootstrapResult } from './bootstrap.js';
import { registerIdentityFaults } from './api/faults.js';
import { registerVersionRoutes } from './api/versions.js';
import { IdentityApi } from './api/context.js';
import { ROUTE_MODULES } from './api/routes.js';

export interface IdentityInstance extends ServiceInstance {
  service: IdentityService;
  tokens: TokenValidator;
  /** EC2 secrets for the object store's S3 API (Keystone's s3token, in-process). */
  ec2: Ec2SecretResolver;
  /** Unified limits for other services' quota checks (what oslo.limit reads from Keystone). */
  limits: LimitReader;
  bootstrap(catalog: CatalogRegistration[]): Promise<BootstrapResult>;
  bootstrapResult: BootstrapResult | null;
}

/** The public base URL other services' catalog entries are built from. */
export function publicBaseUrl(deps: Pick<ServiceDeps, 'config'>): string {
  return (deps.config.server.public_url ?? `http://${deps.config.server.bind}`).replace(/\/+$/, '');
}

export async function createIdentity(deps: ServiceDeps): Promise<IdentityInstance> {
  const service = new IdentityService(deps);
  await service.revocations.load();
  const api = new IdentityApi(service, deps.config, deps.policy);
  const instance: IdentityInstance = {
    service,
    tokens: service.tokens,
    ec2: { ec2Secret: (access) => service.credentials.ec2SecretFor(access) },
    limits: new UnifiedLimitReader(service),
    bootstrapResult: null,
    async bootstrap(catalog) {
      instance.bootstrapResult = await bootstrapIdentity(service, publicBaseUrl(deps), catalog);
      return instance.bootstrapResult;
    },
    async routes(app: FastifyInstance) {
      acceptJsonBodies(app);
      registerIdentityFaults(app);
      rejectNulBytes(app);
      registerVersionRoutes(app, deps.config);
      for (const register of ROUTE_MODULES) await register(app, api);
    },
  };
  return instance;
}

export const IDENTITY_SERVICE: ServiceModule = {
  name: 'identity',
  prefix: '/identity',
  catalog: { type: 'identity', name: 'keystone', description: 'OpenStack Identity', path: '/identity' },
  migrations: IDENTITY_MIGRATIONS,
  policies: IDENTITY_POLICIES,
  create: createIdentity,
};
