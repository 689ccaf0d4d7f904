import { join } from 'node:path';
import type { Ring } from '../../ring/ring.js';
import { StorageError } from '../types.js';
import { suffixOf, type ObjectDisk } from './diskfile.js';
import { AccountBroker, ContainerBroker, type DbCache } from './db.js';
import type { Devices } from './placement.js';

/** Where a database replica lives: <device>/<accounts|containers>/<part>/<suffix>/<hash>/<hash>.db */
export interface DbReplica {
  disk: ObjectDisk;
  path: string;
}

export function dbReplicas(ring: Ring, devices: Devices, kind: 'accounts' | 'containers', account: string, container?: string): { replicas: DbReplica[]; total: number } {
  const { part, hash, nodes } = ring.getNodes(account, container);
  const replicas: DbReplica[] = [];
  for (const dev of nodes) {
    const disk = devices.available(dev);
    if (disk) replicas.push({ disk, path: join(disk.root, kind, String(part), suffixOf(hash), hash, `${hash}.db`) });
  }
  return { replicas, total: nodes.length };
}

export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Runs `fn` on every reachable replica; a write counts once a quorum of replicas took it. */
export function writeReplicas<T>(set: { replicas: DbReplica[]; total: number }, fn: (r: DbReplica) => T): T[] {
  const out: T[] = [];
  for (const r of set.replicas) {
    try {
      out.push(fn(r));
    } catch {
      // A replica that failed stays behind; the DB replicator brings it up to date.
    }
  }
  if (out.length < quorum(set.total)) throw new StorageError('insufficient_storage', `only ${out.length} of ${set.total} database replicas reachable`);
  return out;
}

/** First replica that has the database: reads tolerate missing or broken replicas. */
export function readReplica<T>(replicas: DbReplica[], fn: (r: DbReplica) => T | null): T | null {
  for (const r of replicas) {
    try {
      const v = fn(r);
      if (v !== null) return v;
    } catch {
      // try the next replica
    }
  }
  return null;
}

export function openContainer(cache: DbCache, r: DbReplica): ContainerBroker | null {
  return ContainerBroker.open(cache, r.path);
}

export function openAccount(cache: DbCache, r: DbReplica): AccountBroker | null {
  return AccountBroker.open(cache, r.path);
}
