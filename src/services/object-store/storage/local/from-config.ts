import { isAbsolute, join, resolve } from 'node:path';
import type { Clock } from '../../../../common/clock.js';
import type { Config } from '../../../../common/config/index.js';
import { objectStoreRoot } from '../../ring/store.js';
import { startDaemons } from '../../workers/index.js';
import { createLocalCluster, type LocalCluster } from './cluster.js';

/**
 * The on-disk cluster as configured: <data_dir>/object-store, [object_store] replicas, devices,
 * part_power; plus its daemons. Call `stop()` on shutdown (stops daemons, closes databases).
 */
export async function localClusterFromConfig(config: Config, clock?: Clock, onError?: (err: unknown, daemon: string) => void): Promise<{ cluster: LocalCluster; stop: () => Promise<void> }> {
  const os = config.object_store;
  const root = resolve(objectStoreRoot(config.server.data_dir));
  const devices = os.devices
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map((d) => (isAbsolute(d) ? d : join(resolve(config.server.data_dir), d)));
  const remote = { key: os.storage_key, timeoutMs: os.node_timeout * 1000, suppressMs: os.error_suppression_interval * 1000 };
  const cluster = await createLocalCluster({ root, replicas: os.replicas, devices, partPower: os.part_power, remote, ...(clock ? { clock } : {}) });
  const stopDaemons = startDaemons(
    cluster,
    { replicatorSeconds: os.replicator_interval, auditorSeconds: os.auditor_interval, updaterSeconds: os.updater_interval, expirerSeconds: os.expirer_interval },
    onError,
  );
  return {
    cluster,
    stop: async () => {
      await stopDaemons();
      cluster.close();
    },
  };
}

const stoppers = new WeakMap<object, () => Promise<void>>();

/** createCluster() hook: builds the configured local cluster and remembers how to stop it. */
export async function openConfiguredLocalCluster(config: Config, clock?: Clock, onError?: (err: unknown, daemon: string) => void): Promise<LocalCluster> {
  const { cluster, stop } = await localClusterFromConfig(config, clock, onError);
  stoppers.set(cluster, stop);
  return cluster;
}

/** For the service's stop(): stops the daemons and closes the databases (no-op for other clusters). */
export async function stopClusterIfLocal(cluster: object): Promise<void> {
  const stop = stoppers.get(cluster);
  stoppers.delete(cluster);
  await stop?.();
}
