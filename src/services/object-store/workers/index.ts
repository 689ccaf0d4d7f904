import type { LocalCluster } from '../storage/local/cluster.js';
import { runAuditorOnce } from './auditor.js';
import { runReplicatorOnce } from './replicator.js';

export { runAuditorOnce } from './auditor.js';
export { runReplicatorOnce } from './replicator.js';

/** The updater: replays container updates that could not be applied at write time. */
export function runUpdaterOnce(cluster: LocalCluster): Promise<{ applied: number; remaining: number }> {
  return cluster.processAsyncPendings();
}

/** The expirer: deletes objects whose X-Delete-At has passed. */
export function runExpirerOnce(cluster: LocalCluster): Promise<number> {
  return cluster.expireDue();
}

export interface DaemonIntervals {
  replicatorSeconds: number;
  auditorSeconds: number;
  updaterSeconds: number;
  expirerSeconds: number;
}

/** Something with WorkerPool.schedulePeriodic's shape. */
export interface PeriodicScheduler {
  schedulePeriodic(name: string, intervalMs: number, fn: (signal: AbortSignal) => Promise<void> | void): () => void;
}

/** Registers the four daemons; returns a function unscheduling them. 0 disables a daemon. */
export function scheduleDaemons(pool: PeriodicScheduler, cluster: LocalCluster, every: DaemonIntervals): () => void {
  const stops: Array<() => void> = [];
  const add = (name: string, seconds: number, fn: () => Promise<unknown>) => {
    if (seconds > 0) stops.push(pool.schedulePeriodic(`object-store.${name}`, seconds * 1000, async () => void (await fn())));
  };
  add('replicator', every.replicatorSeconds, () => runReplicatorOnce(cluster));
  add('auditor', every.auditorSeconds, () => runAuditorOnce(cluster));
  add('updater', every.updaterSeconds, () => runUpdaterOnce(cluster));
  add('expirer', every.expirerSeconds, () => runExpirerOnce(cluster));
  return () => stops.forEach((s) => s());
}

/**
 * The same daemons on plain timers, for a service without a WorkerPool: each runs again
 * `interval` after its previous pass finished (never overlapping itself). Returns stop().
 */
export function startDaemons(cluster: LocalCluster, every: DaemonIntervals, onError: (err: unknown, daemon: string) => void = () => undefined): () => Promise<void> {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const loop = (name: string, seconds: number, fn: () => Promise<unknown>) => {
    if (seconds <= 0) return;
    const arm = () => {
      if (stopped) return;
      const t = setTimeout(() => {
        timers.delete(t);
        const p = fn().then(
          () => undefined,
          (err: unknown) => onError(err, name),
        );
        running.add(p);
        void p.finally(() => {
          running.delete(p);
          arm();
        });
      }, seconds * 1000);
      t.unref();
      timers.add(t);
    };
    arm();
  };
  loop('replicator', every.replicatorSeconds, () => runReplicatorOnce(cluster));
  loop('auditor', every.auditorSeconds, () => runAuditorOnce(cluster));
  loop('updater', every.updaterSeconds, () => runUpdaterOnce(cluster));
  loop('expirer', every.expirerSeconds, () => runExpirerOnce(cluster));
  return async () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    await Promise.all(running);
  };
}
