import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RingBuilder } from '../../ring/builder.js';
import type { Ring } from '../../ring/ring.js';
import { loadOrCreateHashPath, loadRing, loadRingFile, saveRingFile } from '../../ring/store.js';
import { RING_KINDS, type RingDevice } from '../../ring/types.js';
import type { DbCache } from './db.js';
import type { StorageDevice } from './device.js';
import { DeviceUnavailable } from './diskfile.js';
import { LocalDevice } from './local-device.js';
import { RemoteDevice, RemoteNode, type RemoteOptions } from '../remote/client.js';

export interface Rings {
  account: Ring;
  container: Ring;
  object: Ring;
}

export interface BootstrapOptions {
  /** <data_dir>/object-store */
  root: string;
  replicas: number;
  /** Device directories; defaults to <root>/devices/d0..d<n-1>. */
  devices: string[];
  partPower: number;
}

/**
 * First start: build the three rings over the configured devices (one zone per device, so
 * replicas land on distinct devices). Later starts use the ring files as they are, so an
 * operator's `nubes ring` changes are never overwritten.
 */
export function bootstrapRings(opts: BootstrapOptions): Rings {
  // Create the salt before any ring is used, so all three rings share it.
  loadOrCreateHashPath(opts.root);
  for (const kind of RING_KINDS) {
    if (loadRingFile(opts.root, kind)) continue;
    const b = RingBuilder.create(kind, opts.partPower, Math.min(opts.replicas, opts.devices.length));
    opts.devices.forEach((dir, i) => {
      const parent = join(dir, '..');
      b.addDevice({ region: 1, zone: i + 1, path: parent, device: dir.slice(parent.length + 1), weight: 100 });
    });
    b.rebalance();
    saveRingFile(opts.root, b.data);
  }
  const load = (kind: (typeof RING_KINDS)[number]) => {
    const ring = loadRing(opts.root, kind);
    if (!ring) throw new Error(`the ${kind} ring under ${opts.root}/rings has no partitions: run "nubes ring rebalance ${kind}"`);
    return ring;
  };
  return { account: load('account'), container: load('container'), object: load('object') };
}

export function defaultDevices(root: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => join(root, 'devices', `d${i}`));
}

/** How a ring device is found: its directory, or ip:port/device for a storage agent's. */
function deviceKey(dev: RingDevice): string {
  return dev.ip === undefined ? join(dev.path ?? '.', dev.device) : `${dev.ip}:${dev.port}/${dev.device}`;
}

/**
 * Device handles shared by the object, container and account servers of the three rings: a
 * LocalDevice per device directory, a RemoteDevice per device of a `nubes agent storage` node
 * (ip:port in the ring).
 */
export class Devices {
  private readonly byKey = new Map<string, StorageDevice>();
  private readonly nodes = new Map<string, RemoteNode>();

  constructor(rings: Rings, dbs: DbCache, remote: RemoteOptions) {
    for (const ring of [rings.account, rings.container, rings.object]) {
      for (const dev of ring.devices) {
        const key = deviceKey(dev);
        if (this.byKey.has(key)) continue;
        if (dev.ip === undefined) {
          mkdirSync(key, { recursive: true });
          this.byKey.set(key, new LocalDevice(dev.id, key, dbs));
        } else {
          const nodeKey = `${dev.ip}:${dev.port}`;
          let node = this.nodes.get(nodeKey);
          if (!node) {
            node = new RemoteNode(dev.ip, dev.port ?? 6200, remote);
            this.nodes.set(nodeKey, node);
          }
          this.byKey.set(key, new RemoteDevice(dev.id, node, dev.device));
        }
      }
    }
  }

  get(dev: RingDevice): StorageDevice {
    const d = this.byKey.get(deviceKey(dev));
    if (!d) throw new DeviceUnavailable(`device ${dev.device} is not in the rings`);
    return d;
  }

  /** Like get(), but undefined when the device is known to be unusable right now. */
  available(dev: RingDevice): StorageDevice | undefined {
    const d = this.byKey.get(deviceKey(dev));
    return d?.usable() ? d : undefined;
  }

  all(): StorageDevice[] {
    return [...this.byKey.values()];
  }

  /** The devices on this machine (what the auditor walks). */
  local(): LocalDevice[] {
    return this.all().filter((d): d is LocalDevice => d instanceof LocalDevice);
  }

  close(): void {
    for (const n of this.nodes.values()) n.close();
    for (const d of this.local()) d.close();
  }
}
