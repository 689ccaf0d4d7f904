import type { Clock } from '../../../../common/clock.js';
import type { Ring } from '../../ring/ring.js';
import { DEFAULT_POLICY, STORAGE_POLICY_KEY } from '../semantics.js';
import { compareTimestamps, timestampFromDate } from '../timestamp.js';
import { StorageError, type AccountInfo, type ContainerInfo, type ContainerListing, type ListingQuery, type MetadataUpdate, type ObjectListing } from '../types.js';
import type { ContainerStat, ObjectRow } from './db.js';
import type { AsyncPending, ContainerServer, DatabaseServer, DbKind, DbLocation, StorageDevice } from './device.js';
import type { Devices, Rings } from './placement.js';

type ServerOf<K extends DbKind> = K extends 'containers' ? ContainerServer : DatabaseServer<'accounts'>;

/** One replica of an account or container database: the device's server and the location on it. */
export interface DbReplica<K extends DbKind> {
  device: StorageDevice;
  db: ServerOf<K>;
  at: DbLocation;
}

export interface DbReplicaSet<K extends DbKind> {
  replicas: Array<DbReplica<K>>;
  /** Replicas the ring asks for, reachable or not. */
  total: number;
}

export function serverOf<K extends DbKind>(device: StorageDevice, kind: K): ServerOf<K> {
  return (kind === 'containers' ? device.containers : device.accounts) as ServerOf<K>;
}

/** The same server seen through what both kinds share (the replicator's view). */
export function databaseOf<K extends DbKind>(device: StorageDevice, kind: K): DatabaseServer<K> {
  return serverOf(device, kind) as DatabaseServer<K>;
}

/** Placements of account and container names, per ring (rings are immutable; a name's md5 is worth keeping). */
const placements = new WeakMap<Ring, Map<string, ReturnType<Ring['getNodes']>>>();

function placed(ring: Ring, account: string, container?: string): ReturnType<Ring['getNodes']> {
  let cache = placements.get(ring);
  if (!cache) placements.set(ring, (cache = new Map()));
  const key = container === undefined ? account : `${account}/${container}`;
  let found = cache.get(key);
  if (!found) {
    if (cache.size >= 4096) cache.clear();
    cache.set(key, (found = ring.getNodes(account, container)));
  }
  return found;
}

/** The reachable replicas of a database, in ring order. */
export function dbReplicas<K extends DbKind>(ring: Ring, devices: Devices, kind: K, account: string, container?: string): DbReplicaSet<K> {
  const { part, hash, nodes } = placed(ring, account, container);
  const replicas: Array<DbReplica<K>> = [];
  for (const dev of nodes) {
    const device = devices.available(dev);
    if (device) replicas.push({ device, db: serverOf(device, kind), at: { part, hash } });
  }
  return { replicas, total: nodes.length };
}

export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Runs `fn` on every reachable replica at once; the write counts once a quorum of replicas took it. */
export async function writeReplicas<K extends DbKind, T>(set: DbReplicaSet<K>, fn: (r: DbReplica<K>) => Promise<T>): Promise<T[]> {
  // A replica that failed stays behind; the database replicator brings it up to date.
  const settled = await Promise.allSettled(set.replicas.map(fn));
  const out = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (out.length < quorum(set.total)) throw new StorageError('insufficient_storage', `only ${out.length} of ${set.total} database replicas reachable`);
  return out;
}

/** First replica that has the database: reads tolerate missing or broken replicas. */
export async function readReplica<K extends DbKind, T>(replicas: Array<DbReplica<K>>, fn: (r: DbReplica<K>) => Promise<T | null>): Promise<T | null> {
  for (const r of replicas) {
    try {
      const v = await fn(r);
      if (v !== null) return v;
    } catch {
      // try the next replica
    }
  }
  return null;
}

/**
 * The proxy's account and container controllers over the account and container servers of
 * every device: quorum writes, first-answer reads, container stats reported to the account,
 * and container updates for object writes (with async pendings when a replica can't take them).
 */
export abstract class ClusterDatabases {
  /** Intents saved before this moment belong to a previous life of this process. */
  protected readonly startedAt = Date.now();

  constructor(
    readonly rings: Rings,
    readonly devices: Devices,
    readonly clock: Clock,
  ) {}

  protected nowTs(): string {
    return timestampFromDate(this.clock.now());
  }

  protected accountSet(account: string): DbReplicaSet<'accounts'> {
    return dbReplicas(this.rings.account, this.devices, 'accounts', account);
  }

  protected containerSet(account: string, container: string): DbReplicaSet<'containers'> {
    return dbReplicas(this.rings.container, this.devices, 'containers', account, container);
  }

  private async ensureAccount(account: string): Promise<void> {
    const timestamp = this.nowTs();
    await writeReplicas(this.accountSet(account), (r) => r.db.create(r.at, { account, timestamp }));
  }

  async headAccount(account: string): Promise<AccountInfo | null> {
    const stat = await readReplica(this.accountSet(account).replicas, (r) => r.db.stat(r.at));
    if (!stat) return null;
    return { containerCount: stat.containerCount, objectCount: stat.objectCount, bytesUsed: stat.bytesUsed, createdAt: stat.createdAt, putTimestamp: stat.putTimestamp, metadata: stat.metadata };
  }

  async updateAccount(account: string, meta: MetadataUpdate): Promise<AccountInfo> {
    await this.ensureAccount(account);
    await writeReplicas(this.accountSet(account), (r) => r.db.update(r.at, meta.set));
    return (await this.headAccount(account))!;
  }

  async listContainers(account: string, query: ListingQuery): Promise<ContainerListing[]> {
    return (await readReplica(this.accountSet(account).replicas, (r) => r.db.list(r.at, query))) ?? [];
  }

  protected async containerStat(account: string, container: string): Promise<ContainerStat | null> {
    return readReplica(this.containerSet(account, container).replicas, (r) => r.db.stat(r.at));
  }

  /**
   * The container server reports its stats to the account server (Swift's container update).
   * Reports of one container coalesce: a caller arriving while one runs waits for the next,
   * which starts after the current one and so reads every row merged before the call.
   */
  protected reportContainer(account: string, container: string, deletedAt?: string): Promise<void> {
    if (deletedAt) return this.sendReport(account, container, deletedAt);
    const key = JSON.stringify([account, container]);
    const state = this.reports.get(key);
    if (!state) {
      const running = this.sendReport(account, container).finally(() => {
        const s = this.reports.get(key);
        if (s && !s.next) this.reports.delete(key);
      });
      this.reports.set(key, { running });
      return running;
    }
    state.next ??= state.running
      .catch(() => undefined)
      .then(() => {
        this.reports.delete(key);
        return this.reportContainer(account, container);
      });
    return state.next;
  }

  private readonly reports = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  private async sendReport(account: string, container: string, deletedAt?: string): Promise<void> {
    const stat = deletedAt ? null : await this.containerStat(account, container);
    const row = stat
      ? { name: container, putTimestamp: stat.putTimestamp, objectCount: stat.objectCount, bytesUsed: stat.bytesUsed, deleted: false }
      : { name: container, putTimestamp: deletedAt ?? this.nowTs(), objectCount: 0, bytesUsed: 0, deleted: true };
    const timestamp = this.nowTs();
    // Stale account stats heal with the next report, so failures are not errors here.
    await Promise.allSettled(
      this.accountSet(account).replicas.map(async (r) => {
        if ((await r.db.merge(r.at, [row])) !== null) return;
        await r.db.create(r.at, { account, timestamp });
        await r.db.merge(r.at, [row]);
      }),
    );
  }

  async headContainer(account: string, container: string): Promise<ContainerInfo | null> {
    const s = await this.containerStat(account, container);
    return s ? { objectCount: s.objectCount, bytesUsed: s.bytesUsed, createdAt: s.createdAt, putTimestamp: s.putTimestamp, storagePolicy: s.storagePolicy, metadata: s.metadata } : null;
  }

  async putContainer(account: string, container: string, meta: MetadataUpdate, timestamp: string): Promise<{ created: boolean; info: ContainerInfo }> {
    await this.ensureAccount(account);
    const created = (await this.containerStat(account, container)) === null;
    const init = { account, container, timestamp, storagePolicy: meta.set[STORAGE_POLICY_KEY] || DEFAULT_POLICY };
    await writeReplicas(this.containerSet(account, container), async (r) => {
      // create() keeps an existing replica as it is; update() then merges and raises the put timestamp.
      await r.db.create(r.at, init);
      await r.db.update(r.at, meta.set, timestamp);
    });
    await this.reportContainer(account, container);
    return { created, info: (await this.headContainer(account, container))! };
  }

  async updateContainer(account: string, container: string, meta: MetadataUpdate): Promise<ContainerInfo | null> {
    if (!(await this.containerStat(account, container))) return null;
    await writeReplicas(this.containerSet(account, container), (r) => r.db.update(r.at, meta.set));
    return this.headContainer(account, container);
  }

  async deleteContainer(account: string, container: string, timestamp: string): Promise<'deleted' | 'not_found' | 'conflict'> {
    const stat = await this.containerStat(account, container);
    if (!stat) return 'not_found';
    if (stat.objectCount > 0) return 'conflict';
    await Promise.allSettled(this.containerSet(account, container).replicas.map((r) => r.db.remove(r.at)));
    await this.reportContainer(account, container, compareTimestamps(timestamp, stat.putTimestamp) > 0 ? timestamp : this.nowTs());
    return 'deleted';
  }

  async listObjects(account: string, container: string, query: ListingQuery): Promise<ObjectListing[] | null> {
    return readReplica(this.containerSet(account, container).replicas, (r) => r.db.list(r.at, query));
  }

  /** Every container of an account, page by page (account deletion). */
  protected async allContainers(account: string): Promise<string[]> {
    const names: string[] = [];
    for (;;) {
      const page = await this.listContainers(account, { limit: 1000, ...(names.length ? { marker: names[names.length - 1]! } : {}) });
      const got = page.flatMap((c) => ('name' in c ? [c.name] : []));
      if (got.length === 0) return names;
      names.push(...got);
    }
  }

  protected async removeAccountDatabases(account: string): Promise<void> {
    await Promise.allSettled(this.accountSet(account).replicas.map((r) => r.db.remove(r.at)));
  }

  /**
   * The object server's container update: every container replica merges the row; replicas
   * that can't are owed an async pending, saved durably on one of the object's devices for
   * the updater. The write's intent record is dropped once the row is accounted for.
   */
  protected async updateListing(account: string, container: string, holders: StorageDevice[], row: ObjectRow, intent?: SavedIntent): Promise<void> {
    const set = this.containerSet(account, container);
    const merged = await Promise.allSettled(set.replicas.map((r) => r.db.merge(r.at, [row])));
    const applied = merged.filter((m) => m.status === 'fulfilled' && m.value !== null).length;
    if (applied < set.total) {
      for (const device of holders) {
        const saved = await device.objects.saveAsyncPending({ account, container, row }).then(
          () => true,
          () => false,
        );
        if (saved) break;
      }
    }
    await this.dropIntent(intent);
    await this.reportContainer(account, container);
  }

  /** Records a write about to commit (see AsyncPending.intent) on the first device that takes it. */
  protected async saveIntent(account: string, container: string, holders: StorageDevice[], row: ObjectRow): Promise<SavedIntent | undefined> {
    for (const device of holders) {
      try {
        return { device, id: await device.objects.saveAsyncPending({ account, container, row, intent: { savedAt: Date.now() } }) };
      } catch {
        // next device; without any intent the write is as safe as Swift's
      }
    }
    return undefined;
  }

  protected async dropIntent(intent: SavedIntent | undefined): Promise<void> {
    await intent?.device.objects.dropAsyncPending(intent.id).catch(() => undefined);
  }

  /** Whether the write an intent announced is on disk ('unknown' while its devices can't tell). */
  protected abstract writeLanded(pending: AsyncPending): Promise<'yes' | 'no' | 'unknown'>;

  /**
   * The updater: replays async pendings until every container replica has them. Intents left
   * by a proxy that died mid-commit (older than this process, or than INTENT_GRACE_MS) are
   * merged if their write landed and dropped if it didn't.
   */
  async processAsyncPendings(): Promise<{ applied: number; remaining: number }> {
    let applied = 0;
    let remaining = 0;
    for (const device of this.devices.all()) {
      if (!device.usable()) continue;
      const pendings = await device.objects.asyncPendings(10_000).catch(() => [] as Array<{ id: string; pending: AsyncPending }>);
      for (const { id, pending } of pendings) {
        if (pending.intent) {
          const stale = pending.intent.savedAt < this.startedAt || Date.now() - pending.intent.savedAt > INTENT_GRACE_MS;
          if (!stale) continue;
          const landed = await this.writeLanded(pending);
          if (landed === 'unknown') {
            remaining++;
            continue;
          }
          if (landed === 'no') {
            await device.objects.dropAsyncPending(id);
            continue;
          }
        }
        const set = this.containerSet(pending.account, pending.container);
        const merged = await Promise.allSettled(set.replicas.map((r) => r.db.merge(r.at, [pending.row])));
        if (merged.filter((m) => m.status === 'fulfilled' && m.value !== null).length === set.total) {
          await device.objects.dropAsyncPending(id);
          await this.reportContainer(pending.account, pending.container);
          applied++;
        } else remaining++;
      }
    }
    return { applied, remaining };
  }
}

/** An in-flight write's intent record: where it is, to drop it afterwards. */
export interface SavedIntent {
  device: StorageDevice;
  id: string;
}

/** How long another process's commit may take before its intent counts as abandoned. */
export const INTENT_GRACE_MS = 60_000;
