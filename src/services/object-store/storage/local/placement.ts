import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RingBuilder } from '../../ring/builder.js';
import type { Ring } from '../../ring/ring.js';
import { loadOrCreateHashPath, loadRing, loadRingFile, saveRingFile } from '../../ring/store.js';
import { RING_KINDS, type RingDevice } from '../../ring/types.js';
import { DeviceUnavailable, ObjectDisk } from './diskfile.js';

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

/**
 * Device handles shared by the object, container and account servers: one ObjectDisk per
 * device directory. Remote devices (ip:port) need `nubes agent storage`, not built yet: they
 * count as unavailable, which the quorum logic already tolerates.
 */
export class Devices {
  private readonly disks = new Map<string, ObjectDisk>();

  constructor(rings: Rings) {
    for (const ring of [rings.account, rings.container, rings.object]) {
      for (const dev of ring.devices) {
        if (dev.ip !== undefined) continue;
        const dir = this.dirOf(dev);
        if (!this.disks.has(dir)) {
          mkdirSync(dir, { recursive: true });
          this.disks.set(dir, new ObjectDisk(dev.id, dir));
        }
      }
    }
  }

  private dirOf(dev: RingDevice): string {
    return join(dev.path ?? '.', dev.device);
  }

  get(dev: RingDevice): ObjectDisk {
    const disk = dev.ip === undefined ? this.disks.get(this.dirOf(dev)) : undefined;
    if (!disk) throw new DeviceUnavailable(`device ${dev.device} on ${dev.ip}:${dev.port} is remote (no storage agent)`);
    return disk;
  }

  /** Like get(), but undefined when the device can't be used right now. */
  available(dev: RingDevice): ObjectDisk | undefined {
    try {
      const d = this.get(dev);
      d.check();
      return d;
    } catch {
      return undefined;
    }
  }

  all(): ObjectDisk[] {
    return [...this.disks.values()];
  }

  byId(id: number): ObjectDisk | undefined {
    return this.all().find((d) => d.id === id);
  }
}
