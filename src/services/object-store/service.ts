import type { ServiceDeps } from '../../common/service.js';
import type { Clock } from '../../common/clock.js';
import type { TokenValidator } from '../../common/auth/index.js';
import { ConfigError, type Config } from '../../common/config/index.js';
import type { StorageCluster } from './storage/types.js';
import { MemoryCluster } from './storage/memory.js';
import { newTimestamp } from './storage/timestamp.js';
import { parseRealms, selfSyncEndpoint, type SyncRealms } from './sync-realms.js';

/** The Swift proxy's state: the cluster it fronts, its constraints and the token validator. */
export class ObjectStoreService {
  readonly config: Config['object_store'];
  readonly tokens: TokenValidator;
  readonly clock: Clock;
  /** Container sync realms ([object_store] container_sync_realms), checked once at start. */
  readonly syncRealms: SyncRealms;

  constructor(
    deps: Pick<ServiceDeps, 'config' | 'clock' | 'tokens'>,
    readonly cluster: StorageCluster,
  ) {
    this.config = deps.config.object_store;
    this.tokens = deps.tokens;
    this.clock = deps.clock;
    this.syncRealms = parseRealms(this.config.container_sync_realms, selfSyncEndpoint(deps.config.server.bind));
  }

  /** A strictly increasing X-Timestamp for the next write. */
  timestamp(): string {
    return newTimestamp(this.clock.now());
  }

  now(): Date {
    return this.clock.now();
  }
}

/** Picks the cluster the config asks for. */
export async function createCluster(deps: Pick<ServiceDeps, 'config' | 'clock'>): Promise<StorageCluster> {
  if (deps.config.object_store.backend === 'local') {
    // A device's files and databases belong to one process; more processes share devices
    // through `nubes agent storage`, never by opening the same directories.
    if (deps.config.server.join) throw new ConfigError('server.join: the object store\'s local devices belong to the first process; leave object-store out of server.services here (a storage node runs `nubes agent storage`)');
    // Rings + devices under <data_dir>/object-store, with replicator/auditor/updater/expirer.
    const { openConfiguredLocalCluster } = await import('./storage/local/from-config.js');
    return openConfiguredLocalCluster(deps.config, deps.clock);
  }
  return new MemoryCluster({ clock: deps.clock });
}
