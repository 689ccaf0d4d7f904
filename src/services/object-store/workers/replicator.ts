import type { LocalCluster } from '../storage/local/cluster.js';
import { databaseOf } from '../storage/local/dbservers.js';
import type { DbKind, DbLocation, DbShapes, StorageDevice } from '../storage/local/device.js';
import { CorruptObject, isNewerState, keptFiles, type OnDiskState } from '../storage/local/diskfile.js';
import type { Ring } from '../ring/ring.js';

export interface ReplicationReport {
  partitions: number;
  /** Hash directories brought up to date on some replica. */
  synced: number;
  /** Handoff partitions handed back to their primaries and removed. */
  handoffsReverted: number;
  /** Database replicas created or rows merged. */
  dbsSynced: number;
  /** Devices or copies that failed this pass (retried next pass). */
  errors: number;
}

async function stateOrQuarantine(device: StorageDevice, part: number, hash: string): Promise<OnDiskState | null> {
  try {
    return await device.objects.readState(part, hash);
  } catch (err) {
    if (err instanceof CorruptObject) await device.objects.quarantine(part, hash).catch(() => undefined);
    return null;
  }
}

function usableDevices(cluster: LocalCluster, devs: ReturnType<Ring['getPartNodes']>): StorageDevice[] {
  return devs.map((n) => cluster.devices.available(n)).filter((d): d is StorageDevice => d !== undefined);
}

/**
 * Swift's object replicator, driven from the process that holds the rings: for every
 * partition, replicas compare suffix hashes; where they differ, each hash directory's newest
 * state (data + .meta, or tombstone) is streamed to every primary lacking it, whether the
 * devices are local or on `nubes agent storage` nodes. Partitions sitting on a handoff device
 * are pushed to their primaries and removed from the handoff once every primary has them.
 */
export async function runReplicatorOnce(cluster: LocalCluster): Promise<ReplicationReport> {
  const ring = cluster.rings.object;
  const report: ReplicationReport = { partitions: 0, synced: 0, handoffsReverted: 0, dbsSynced: 0, errors: 0 };
  const present = new Map<number, StorageDevice[]>();
  for (const d of cluster.devices.all()) {
    if (!d.usable()) continue;
    const parts = await d.objects.partitions().catch(() => (report.errors++, [] as number[]));
    for (const p of parts) present.set(p, [...(present.get(p) ?? []), d]);
  }
  for (const [part, holders] of present) {
    report.partitions++;
    const primaryDevs = ring.getPartNodes(part);
    const primaries = usableDevices(cluster, primaryDevs);
    const handoffs = holders.filter((d) => !primaries.includes(d));
    const everyone = [...primaries, ...handoffs];
    let failed = false;
    const hashes = await Promise.all(everyone.map((d) => d.objects.suffixHashes(part).catch(() => ((failed = true), new Map<string, string>()))));
    const suffixes = new Set<string>();
    for (const h of hashes) for (const s of h.keys()) suffixes.add(s);
    const differing = [...suffixes].filter((s) => handoffs.length > 0 || new Set(hashes.slice(0, primaries.length).map((h) => h.get(s) ?? '')).size > 1);
    for (const suffix of differing) {
      const names = new Set<string>();
      for (const d of everyone) for (const { hash } of await d.objects.hashesIn(part, suffix).catch(() => ((failed = true), []))) names.add(hash);
      for (const hash of names) {
        try {
          report.synced += await syncObject(part, hash, everyone, primaries);
        } catch {
          failed = true;
        }
      }
    }
    // A handoff may let go only once every primary is reachable and took everything.
    if (primaries.length === primaryDevs.length && !failed) {
      for (const h of handoffs) {
        await h.objects.removePartition(part).then(
          () => report.handoffsReverted++,
          () => report.errors++,
        );
      }
    }
    if (failed) report.errors++;
  }
  report.dbsSynced = await replicateDatabases(cluster, 'containers', cluster.rings.container) + (await replicateDatabases(cluster, 'accounts', cluster.rings.account));
  return report;
}

/** Streams the newest state of one object to every primary lacking it; returns how many were updated. */
async function syncObject(part: number, hash: string, everyone: StorageDevice[], primaries: StorageDevice[]): Promise<number> {
  let winner: { device: StorageDevice; state: OnDiskState } | undefined;
  for (const d of everyone) {
    const s = await stateOrQuarantine(d, part, hash);
    if (s && (!winner || isNewerState(s, winner.state))) winner = { device: d, state: s };
  }
  if (!winner) return 0;
  let synced = 0;
  for (const target of primaries) {
    if (target === winner.device) continue;
    const have = await target.objects.listFiles(part, hash);
    const missing = keptFiles(winner.state).filter((f) => !have.includes(f));
    if (missing.length === 0) continue;
    // Data before .meta: each file is durable on its own, and the target cleans up after each.
    for (const f of missing) await target.objects.putFile(part, hash, f, await winner.device.objects.readFile(part, hash, f));
    synced++;
  }
  return synced;
}

const ROW_PAGE = 1000;

/**
 * The account/container replicators, reduced: a replica missing a database gets one created
 * with the same identity and metadata, and replicas whose row fingerprints differ exchange
 * their rows page by page (newest timestamp per name wins, so merging is idempotent and
 * order-free).
 */
async function replicateDatabases<K extends DbKind>(cluster: LocalCluster, kind: K, ring: Ring): Promise<number> {
  let synced = 0;
  const seen = new Set<string>();
  for (const device of cluster.devices.all()) {
    if (!device.usable()) continue;
    const held = await databaseOf(device, kind).held().catch(() => [] as DbLocation[]);
    for (const at of held) {
      if (seen.has(at.hash)) continue;
      seen.add(at.hash);
      try {
        synced += await syncDatabase(cluster, kind, ring, device, at);
      } catch {
        // a replica went away mid-pass: next pass
      }
    }
  }
  return synced;
}

async function syncDatabase<K extends DbKind>(cluster: LocalCluster, kind: K, ring: Ring, source: StorageDevice, at: DbLocation): Promise<number> {
  const targets = usableDevices(cluster, ring.getPartNodes(at.part));
  const stat = await databaseOf(source, kind).stat(at);
  if (!stat) return 0;
  let synced = 0;
  const replicas = [...new Set([source, ...targets])].map((d) => databaseOf(d, kind));
  for (const t of targets) {
    const db = databaseOf(t, kind);
    if ((await db.stat(at)) !== null) continue;
    const init = 'container' in stat ? { account: stat.account, container: stat.container, timestamp: stat.createdAt, storagePolicy: stat.storagePolicy } : { account: stat.account, timestamp: stat.createdAt };
    await db.create(at, init as DbShapes[K]['init']);
    await db.update(at, stat.metadata, stat.putTimestamp);
    synced++;
  }
  const points = await Promise.all(replicas.map((r) => r.syncPoint(at)));
  if (new Set(points).size <= 1) return synced;
  // Every replica's rows into every other replica; a handoff source ends up merged too, harmlessly.
  for (const from of replicas) {
    let marker: string | undefined;
    for (;;) {
      const rows = await from.rows(at, { limit: ROW_PAGE, ...(marker !== undefined ? { marker } : {}) });
      if (!rows || rows.length === 0) break;
      for (const to of replicas) if (to !== from) synced += (await to.merge(at, rows)) ?? 0;
      if (rows.length < ROW_PAGE) break;
      marker = rows[rows.length - 1]!.name;
    }
  }
  return synced;
}
