import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './common/config/index.js';
import { Database } from './common/db/index.js';
import { createLogger, type Logger } from './common/log.js';
import { systemClock, type Clock } from './common/clock.js';
import { requestId } from './common/ids.js';
import { InMemoryEventBus, type EventBus } from './common/events/index.js';
import { JobQueue, WorkerPool } from './common/jobs/index.js';
import { PolicyEnforcer, loadPolicyOverrides } from './common/policy/index.js';
import type { AuthContext, Ec2Secret, Ec2SecretResolver, LimitReader, TokenValidator } from './common/auth/index.js';
import { registerRequestId } from './common/http/request-id.js';
import { registerAccessLog } from './common/http/access-log.js';
import { useLazyValidators } from './common/http/lazy-validator.js';
import type { ServiceDeps, ServiceInstance, ServiceModule } from './common/service.js';
import { SERVICES } from './services.js';
import { createIdentity, type IdentityInstance } from './services/identity/index.js';

export interface CloudOptions {
  log?: Logger;
  clock?: Clock;
  /** Services to mount; defaults to the whole registry. */
  services?: readonly ServiceModule[];
}

export interface Cloud {
  app: FastifyInstance;
  config: Config;
  db: Database;
  identity: IdentityInstance;
  /** The notification bus (oslo-style event types such as identity.user.created). */
  events: EventBus;
  workers: WorkerPool;
  /** Every route the app serves (method + URL pattern), for docs and the fuzz test. */
  routes: readonly { method: string; url: string }[];
  /** Starts background workers; `nubes start` calls it, in-process tests may too. */
  startWorkers(): void;
  close(): Promise<void>;
}

/** Builds the whole cloud as one HTTP app. Never listens: `nubes start` and tests decide that. */
export async function buildCloud(config: Config, options: CloudOptions = {}): Promise<Cloud> {
  const log = options.log ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  const modules = options.services ?? SERVICES;
  const db = Database.open(config.database.url, join(config.server.data_dir, 'nubes.sqlite'), config.database.pool_size);

  const jobs = new JobQueue(db, {
    leaseSeconds: config.jobs.lease_seconds,
    maxAttempts: config.jobs.max_attempts,
    pollIntervalMs: config.jobs.poll_interval_ms,
    clock: () => clock.now(),
  });
  await jobs.migrate();
  for (const module of modules) await db.migrate(module.name, module.migrations);

  const overrides = config.policy.policy_file ? loadPolicyOverrides(config.policy.policy_file) : {};
  const policy = new PolicyEnforcer([], { overrides, enforceScope: config.policy.enforce_scope });
  for (const module of modules) policy.register(module.policies);

  const events: EventBus = new InMemoryEventBus({ onError: (err: unknown, n: { event_type: string }) => log.warn({ err, event: n.event_type }, 'event handler failed') });
  const tokens = new DeferredTokenValidator();
  const ec2 = new DeferredEc2Resolver();
  const limits = new DeferredLimitReader();
  const deps: ServiceDeps = { config, db, log, clock, events, jobs, policy, tokens, ec2, limits };

  const identity = await createIdentity(deps);
  tokens.target = identity.tokens;
  ec2.target = identity.ec2;
  limits.target = identity.limits;
  // Bootstrap hashes or checks the admin password on the thread pool while the other services
  // are created and the routes built; services use identity only once they are started.
  const bootstrapping = identity.bootstrap(modules.flatMap((m) => (m.catalog ? [m.catalog] : [])));
  // Awaited below; this only keeps an early failure from counting as an unhandled rejection.
  bootstrapping.catch(() => undefined);
  const instances = new Map<ServiceModule, ServiceInstance>();
  for (const module of modules) {
    instances.set(module, module.name === 'identity' ? identity : await module.create(deps));
  }

  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; the generic parameters just differ in name.
    loggerInstance: log as FastifyBaseLogger,
    // Our own access log (common/http/access-log.ts) replaces Fastify's two lines per request.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => requestId(),
    bodyLimit: config.server.body_limit_bytes,
    // Clients send ids and names in paths; never let '//' or case changes reroute.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    forceCloseConnections: 'idle',
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  useLazyValidators(app);
  registerRequestId(app);
  if (config.log.access_log) registerAccessLog(app);

  let ready = false;
  app.get('/healthcheck', async (_request, reply) => {
    if (!ready) return reply.code(503).type('text/plain').send('starting');
    return reply.type('text/plain').send('OK');
  });
  for (const [module, instance] of instances) {
    await app.register(async (scope) => instance.routes(scope), { prefix: module.prefix });
  }

  const handlers = [...instances.values()].flatMap((i) => i.jobHandlers ?? []);
  const workers = new WorkerPool(jobs, handlers, { concurrency: 2 });
  await bootstrapping;
  for (const instance of instances.values()) await instance.start?.();
  await app.ready();
  ready = true;

  let closed = false;
  return {
    app,
    config,
    db,
    identity,
    events,
    workers,
    routes,
    startWorkers: () => workers.start(),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await workers.stop();
      for (const instance of [...instances.values()].reverse()) await instance.stop?.();
      await db.close();
    },
  };
}

/** Lets every service hold the validator before identity exists (identity is built with the same deps). */
class DeferredTokenValidator implements TokenValidator {
  target: TokenValidator | null = null;
  validate(token: string, opts?: { allowExpired?: boolean }): Promise<AuthContext> {
    if (!this.target) throw new Error('token validator used before identity was created');
    return this.target.validate(token, opts);
  }
}

class DeferredLimitReader implements LimitReader {
  target: LimitReader | null = null;
  projectLimits(serviceType: string, projectId: string, resourceNames: readonly string[]): Promise<Record<string, number>> {
    if (!this.target) throw new Error('limit reader used before identity was created');
    return this.target.projectLimits(serviceType, projectId, resourceNames);
  }
}

class DeferredEc2Resolver implements Ec2SecretResolver {
  target: Ec2SecretResolver | null = null;
  ec2Secret(access: string): Promise<Ec2Secret | null> {
    if (!this.target) throw new Error('EC2 credential resolver used before identity was created');
    return this.target.ec2Secret(access);
  }
}
