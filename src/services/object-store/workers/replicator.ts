import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LocalCluster } from '../storage/local/cluster.js';
import { AccountBroker, ContainerBroker } from '../storage/local/db.js';
import { CorruptObject, type ObjectDisk, type OnDiskState } from '../storage/local/diskfile.js';
import { normalizeTimestamp, compareTimestamps } from '../storage/timestamp.js';

export interface ReplicationReport {
  partitions: number;
  /** Hash directories brought up to date on some replica. */
  synced: number;
  /** Handoff partitions handed back to their primaries and removed. */
  handoffsReverted: number;
  /** Database replicas created or merged. */
  dbsSynced: number;
}

function keptFiles(s: OnDiskState): string[] {
  if (s.kind === 'tombstone') return [`${s.timestamp}.ts`];
  const files = [basename(s.dataFile)];
  if (s.post) files.push(`${normalizeTimestamp(s.post.timestamp)}.meta`);
  return files;
}

function newerState(a: OnDiskState, b: OnDiskState): boolean {
  const main = (s: OnDiskState) => keptFiles(s)[0]!.replace(/\.\w+$/, '');
  const c = compareTimestamps(main(a), main(b));
  return c !== 0 ? c > 0 : compareTimestamps(a.timestamp, b.timestamp) > 0;
}

async function stateOrQuarantine(disk: ObjectDisk, part: number, hash: string): Promise<OnDiskState | null> {
  try {
    return await disk.readState(part, hash);
  } catch (err) {
    if (err instanceof CorruptObject) await disk.quarantine(part, hash).catch(() => undefined);
    return null;
  }
}

/**
 * Swift's object replicator for local devices: for every partition, replicas compare suffix
 * hashes; where they differ, each hash directory's newest state (data + .meta, or tombstone)
 * is copied to every primary lacking it. Partitions sitting on a handoff device are pushed to
 * their primaries and then removed from the handoff.
 */
export async function runReplicatorOnce(cluster: LocalCluster): Promise<ReplicationReport> {
  const ring = cluster.rings.object;
  const report: ReplicationReport = { partitions: 0, synced: 0, handoffsReverted: 0, dbsSynced: 0 };
  const disks = cluster.devices.all().filter((d) => {
    try {
      d.check();
      return true;
    } catch {
      return false;
    }
  });
  const present = new Map<number, ObjectDisk[]>();
  for (const d of disks) for (const p of await d.partitions()) present.set(p, [...(present.get(p) ?? []), d]);
  for (const [part, holders] of present) {
    report.partitions++;
    const primaryDevs = ring.getPartNodes(part);
    const primaries = primaryDevs.map((n) => cluster.devices.available(n)).filter((d): d is ObjectDisk => d !== undefined);
    const handoffs = holders.filter((d) => !primaries.includes(d));
    const everyone = [...primaries, ...handoffs];
    const hashes = await Promise.all(everyone.map((d) => d.suffixHashes(part).catch(() => new Map<string, string>())));
    const suffixes = new Set<string>();
    for (const h of hashes) for (const s of h.keys()) suffixes.add(s);
    const differing = [...suffixes].filter((s) => handoffs.length > 0 || new Set(hashes.slice(0, primaries.length).map((h) => h.get(s) ?? '')).size > 1);
    for (const suffix of differing) {
      const names = new Set<string>();
      for (const d of everyone) for (const { hash } of await d.hashesIn(part, suffix)) names.add(hash);
      for (const hash of names) {
        let winner: { disk: ObjectDisk; state: OnDiskState } | undefined;
        const states = new Map<ObjectDisk, OnDiskState | null>();
        for (const d of everyone) {
          const s = await stateOrQuarantine(d, part, hash);
          states.set(d, s);
          if (s && (!winner || newerState(s, winner.state))) winner = { disk: d, state: s };
        }
        if (!winner) continue;
        for (const target of primaries) {
          if (target === winner.disk) continue;
          const have = await target.listFiles(part, hash);
          const missing = keptFiles(winner.state).filter((f) => !have.includes(f));
          if (missing.length === 0) continue;
          for (const f of missing) await target.importFile(part, hash, f, join(winner.disk.hashDir(part, hash), f));
          await target.cleanup(part, hash);
          report.synced++;
        }
      }
    }
    // A handoff may let go only once every primary is reachable and now holds the data.
    if (primaries.length === primaryDevs.length) {
      for (const h of handoffs) {
        await rm(join(h.objectsDir(), String(part)), { recursive: true, force: true });
        report.handoffsReverted++;
      }
    }
  }
  report.dbsSynced = await replicateDatabases(cluster);
  return report;
}

/**
 * The account/container replicators, reduced: a replica missing a database gets a copy, and
 * replicas that exist merge each other's rows (newest timestamp per name wins, so merging is
 * idempotent and order-free).
 */
async function replicateDatabases(cluster: LocalCluster): Promise<number> {
  let synced = 0;
  for (const [kind, ring] of [['containers', cluster.rings.container], ['accounts', cluster.rings.account]] as const) {
    const seen = new Set<string>();
    for (const disk of cluster.devices.all()) {
      const base = join(disk.root, kind);
      for (const part of await readdir(base).catch(() => [] as string[])) {
        for (const suffix of await readdir(join(base, part)).catch(() => [] as string[])) {
          for (const hash of await readdir(join(base, part, suffix)).catch(() => [] as string[])) {
            if (seen.has(hash)) continue;
            seen.add(hash);
            const rel = join(kind, part, suffix, hash, `${hash}.db`);
            const targets = ring.getPartNodes(Number(part)).map((n) => cluster.devices.available(n)).filter((d): d is ObjectDisk => d !== undefined);
            const holders = [...new Set([disk, ...targets])].filter((d) => existsSync(join(d.root, rel)));
            const source = holders[0];
            if (!source) continue;
            for (const t of targets) {
              const path = join(t.root, rel);
              if (!existsSync(path)) {
                const src = cluster.dbs.get(join(source.root, rel), false, '');
                if (src) {
                  await mkdir(dirname(path), { recursive: true });
                  await src.backup(path);
                  synced++;
                }
              }
            }
            if (kind === 'containers') {
              const brokers = targets.map((t) => ContainerBroker.open(cluster.dbs, join(t.root, rel))).filter((b): b is ContainerBroker => b !== null);
              const rows = brokers.flatMap((b) => b.rows());
              for (const b of brokers) for (const r of rows) if (b.mergeObject(r)) synced++;
            } else {
              const brokers = targets.map((t) => AccountBroker.open(cluster.dbs, join(t.root, rel))).filter((b): b is AccountBroker => b !== null);
              const rows = brokers.flatMap((b) => b.containerRows());
              for (const b of brokers) for (const r of rows) b.putContainer(r);
            }
          }
        }
      }
    }
  }
  return synced;
}
