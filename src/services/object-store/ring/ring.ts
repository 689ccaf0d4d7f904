import { createHash } from 'node:crypto';
import type { HashPathConfig, RingDevice, RingFile } from './types.js';

/** md5 of the salted path "/a", "/a/c" or "/a/c/o"; also names the object's hash directory. */
export function hashPath(hp: HashPathConfig, account: string, container?: string, object?: string): Buffer {
  let path = `/${account}`;
  if (container !== undefined) path += `/${container}`;
  if (object !== undefined) path += `/${object}`;
  return createHash('md5').update(hp.prefix).update(path).update(hp.suffix).digest();
}

/** Read-only view of a rebalanced ring: name → partition → replica devices. */
export class Ring {
  private readonly byId = new Map<number, RingDevice>();
  readonly partCount: number;
  private readonly shift: number;

  constructor(
    readonly data: RingFile,
    readonly hashConfig: HashPathConfig,
  ) {
    if (data.replica2part2dev.length === 0) throw new Error(`${data.kind} ring has not been rebalanced`);
    for (const d of data.devices) this.byId.set(d.id, d);
    this.partCount = 2 ** data.partPower;
    this.shift = 32 - data.partPower;
  }

  get replicas(): number {
    return this.data.replica2part2dev.length;
  }

  get devices(): RingDevice[] {
    return this.data.devices;
  }

  partitionOfHash(hash: Buffer): number {
    // >>> keeps it unsigned; partPower 0 means shift 32, which JS would treat as 0.
    return this.shift >= 32 ? 0 : hash.readUInt32BE(0) >>> this.shift;
  }

  getPartition(account: string, container?: string, object?: string): number {
    return this.partitionOfHash(hashPath(this.hashConfig, account, container, object));
  }

  /** The primary devices of a partition, replica order. */
  getPartNodes(part: number): RingDevice[] {
    const out: RingDevice[] = [];
    for (const row of this.data.replica2part2dev) {
      const dev = this.byId.get(row[part]!);
      if (dev && !out.includes(dev)) out.push(dev);
    }
    return out;
  }

  getNodes(account: string, container?: string, object?: string): { part: number; hash: string; nodes: RingDevice[] } {
    const hash = hashPath(this.hashConfig, account, container, object);
    const part = this.partitionOfHash(hash);
    return { part, hash: hash.toString('hex'), nodes: this.getPartNodes(part) };
  }

  /** Handoff candidates: devices not primary for `part`, other zones first (Swift's get_more_nodes). */
  getHandoffNodes(part: number): RingDevice[] {
    const primaries = this.getPartNodes(part);
    const zones = new Set(primaries.map((d) => `${d.region}/${d.zone}`));
    const rest = this.data.devices.filter((d) => d.weight > 0 && !primaries.includes(d));
    // Rotate by partition so handoff load spreads instead of always hitting the same device.
    const rotated = rest.map((d, i) => ({ d, k: (i + part) % Math.max(1, rest.length) })).sort((a, b) => a.k - b.k).map((x) => x.d);
    return [...rotated.filter((d) => !zones.has(`${d.region}/${d.zone}`)), ...rotated.filter((d) => zones.has(`${d.region}/${d.zone}`))];
  }

  /** Partitions for which `deviceId` holds a primary replica. */
  partitionsOf(deviceId: number): number[] {
    const parts = new Set<number>();
    for (const row of this.data.replica2part2dev) row.forEach((dev, p) => dev === deviceId && parts.add(p));
    return [...parts].sort((a, b) => a - b);
  }
}
