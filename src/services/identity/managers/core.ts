import type { Kysely } from 'kysely';
import type { Config } from '../../../common/config/index.js';
import type { Clock } from '../../../common/clock.js';
import type { EventBus } from '../../../common/events/index.js';
import type { Logger } from '../../../common/log.js';
import type { Database } from '../../../common/db/index.js';
import type { IdentityTables } from '../store/tables.js';
import type { PasswordHasher } from './password-hasher.js';

/** The shared plumbing every identity manager receives. */
export interface IdentityCore {
  db: Kysely<IdentityTables>;
  database: Database;
  config: Config;
  clock: Clock;
  events: EventBus;
  log: Logger;
  hasher: PasswordHasher;
  /** Called whenever something happens that may invalidate cached token validations. */
  onRevocation(): void;
}

/** Publishes an oslo-style CADF-less basic notification: identity.<resource>.<operation>. */
export function notify(core: IdentityCore, resource: string, operation: 'created' | 'updated' | 'deleted', id: string): void {
  core.events.publish(`identity.${resource}.${operation}`, { resource_info: id }, { publisher: 'identity' });
}
