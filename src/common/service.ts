import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import type { Config } from './config/index.js';
import type { Database } from './db/index.js';
import type { Logger } from './log.js';
import type { Clock } from './clock.js';
import type { EventBus } from './events/index.js';
import type { JobHandler, JobQueue } from './jobs/index.js';
import type { PolicyEnforcer, RuleDefault } from './policy/index.js';
import type { Ec2SecretResolver, LimitReader, TokenValidator } from './auth/index.js';

/** What every service is handed; nothing else is global. */
export interface ServiceDeps {
  config: Config;
  db: Database;
  log: Logger;
  clock: Clock;
  events: EventBus;
  jobs: JobQueue;
  policy: PolicyEnforcer;
  /** Validates tokens as if Keystone were remote (in-process here). */
  tokens: TokenValidator;
  /** EC2 credential secrets for the S3 API (in-process s3token); set by buildCloud. */
  ec2?: Ec2SecretResolver;
  /** Keystone's unified limits (in-process oslo.limit); set by buildCloud. */
  limits?: LimitReader;
}

/** A catalog entry the identity bootstrap registers for the service. */
export interface CatalogRegistration {
  type: string;
  name: string;
  description?: string;
  /** Path appended to the public base URL; may contain Keystone's $(project_id)s template. */
  path: string;
}

export interface ServiceInstance {
  /** Registers routes inside the service's own encapsulated context (its prefix, fault handler, hooks). */
  routes(app: FastifyInstance): Promise<void>;
  jobHandlers?: JobHandler[];
  /** Called after every service is created and the HTTP app is built, before listening. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface ServiceModule {
  /** Registry key and folder name (identity, compute, ...). */
  name: string;
  /** Path prefix of its API on the shared listener ('/identity'). */
  prefix: string;
  catalog?: CatalogRegistration;
  migrations: Record<string, Migration>;
  policies: RuleDefault[];
  create(deps: ServiceDeps): Promise<ServiceInstance>;
}
