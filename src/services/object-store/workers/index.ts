import type { LocalCluster } from '../storage/local/cluster.js';
import { runAuditorOnce } from './auditor.js';
import { runReplicatorOnce } from './replicator.js';
import { ContainerSyncer, type ContainerSyncOptions } from './container-sync.js';

export { runAuditorOnce } from './auditor.js';
export { runReplicatorOnce } from './replicator.js';
export { ContainerSyncer, runContainerSyncOnce, type ContainerSyncOptions, type ContainerSyncReport } from './container-sync.js';

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
 * Runs `fn` on a plain timer, `seconds` after its previous pass finished (never overlapping
 * itself); 0 disables it. Returns stop(), which waits for a pass in progress.
 */
export function runPeriodically(name: string, seconds: number, fn: () => Promise<unknown>, onError: (err: unknown, daemon: string) => void = () => undefined): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const arm = () => {
    if (stopped || seconds <= 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = fn().then(
        () => undefined,
        (err: unknown) => onError(err, name),
      );
      void running.finally(() => {
        running = undefined;
        arm();
      });
    }, seconds * 1000);
    timer.unref();
  };
  arm();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}

/**
 * The same daemons on plain timers, for a service without a WorkerPool: each runs again
 * `interval` after its previous pass finished (never overlapping itself). Returns stop().
 */
export function startDaemons(cluster: LocalCluster, every: DaemonIntervals, onError: (err: unknown, daemon: string) => void = () => undefined): () => Promise<void> {
  const stops = [
    runPeriodically('replicator', every.replicatorSeconds, () => runReplicatorOnce(cluster), onError),
    runPeriodically('auditor', every.auditorSeconds, () => runAuditorOnce(cluster), onError),
    runPeriodically('updater', every.updaterSeconds, () => runUpdaterOnce(cluster), onError),
    runPeriodically('expirer', every.expirerSeconds, () => runExpirerOnce(cluster), onError),
  ];
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}

/**
 * The container-sync daemon: runs in the service that serves the Swift API (it needs the realms
 * and sends HTTP), every `seconds`; returns stop(), which also closes its state.
 */
export function startContainerSync(opts: ContainerSyncOptions, seconds: number, onError?: (err: unknown, daemon: string) => void): () => Promise<void> {
  if (seconds <= 0) return async () => undefined;
  const syncer = new ContainerSyncer(opts);
  const stop = runPeriodically('container-sync', seconds, () => syncer.runOnce(), onError);
  return async () => {
    await stop();
    syncer.close();
  };
}
