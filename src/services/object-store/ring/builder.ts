import type { RingDevice, RingFile, RingKind } from './types.js';

export class RingBuilderError extends Error {
  override name = 'RingBuilderError';
}

export interface RebalanceResult {
  /** Replica assignments that changed (data the replicator will move). */
  moved: number;
  /** Swift's balance: worst device's |assigned - wanted| / wanted, in percent. */
  balance: number;
}

const MAX_PART_POWER = 24;

/** Deterministic spread of partition order, so reassignment never favours low partitions. */
function spreadOrder(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  let seed = 0x9e3779b9;
  for (let i = count - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Swift's ring builder reduced to its essentials: devices with weights, `rebalance()` gives every
 * device a share of partition-replicas proportional to its weight while keeping the replicas of
 * a partition in distinct regions/zones/hosts where the topology allows, and moves as few
 * assignments as possible (existing ones are kept unless their device left or is overloaded).
 */
export class RingBuilder {
  constructor(readonly data: RingFile) {}

  static create(kind: RingKind, partPower: number, replicas: number, minPartHours = 1): RingBuilder {
    if (!Number.isInteger(partPower) || partPower < 0 || partPower > MAX_PART_POWER) throw new RingBuilderError(`part power must be an integer 0..${MAX_PART_POWER}`);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) throw new RingBuilderError('replicas must be an integer 1..16');
    if (!Number.isInteger(minPartHours) || minPartHours < 0) throw new RingBuilderError('min_part_hours must be a non-negative integer');
    return new RingBuilder({ format: 1, kind, partPower, replicas, minPartHours, devices: [], replica2part2dev: [], version: 0, dirty: true });
  }

  addDevice(dev: Omit<RingDevice, 'id'> & { id?: number }): RingDevice {
    if (!dev.device || /[/\\]/.test(dev.device) || dev.device === '.' || dev.device === '..') throw new RingBuilderError(`invalid device name "${dev.device}"`);
    if (!Number.isFinite(dev.weight) || dev.weight < 0) throw new RingBuilderError('weight must be a non-negative number');
    if (!Number.isInteger(dev.region) || dev.region < 0 || !Number.isInteger(dev.zone) || dev.zone < 0) throw new RingBuilderError('region and zone must be non-negative integers');
    if (dev.ip !== undefined && (dev.port === undefined || !Number.isInteger(dev.port) || dev.port < 1 || dev.port > 65535)) throw new RingBuilderError('a remote device needs a port 1..65535');
    const clash = this.data.devices.find((d) => d.device === dev.device && d.ip === dev.ip && d.port === dev.port && d.path === dev.path);
    if (clash) throw new RingBuilderError(`device ${dev.device} already exists as id ${clash.id}`);
    const id = dev.id ?? this.data.devices.reduce((m, d) => Math.max(m, d.id + 1), 0);
    if (this.data.devices.some((d) => d.id === id)) throw new RingBuilderError(`device id ${id} already in use`);
    const added: RingDevice = { ...dev, id };
    this.data.devices.push(added);
    this.data.dirty = true;
    return added;
  }

  setWeight(id: number, weight: number): void {
    if (!Number.isFinite(weight) || weight < 0) throw new RingBuilderError('weight must be a non-negative number');
    this.device(id).weight = weight;
    this.data.dirty = true;
  }

  /** The device's partitions move elsewhere on the next rebalance. */
  removeDevice(id: number): void {
    this.device(id);
    this.data.devices = this.data.devices.filter((d) => d.id !== id);
    this.data.dirty = true;
  }

  private device(id: number): RingDevice {
    const d = this.data.devices.find((x) => x.id === id);
    if (!d) throw new RingBuilderError(`no device with id ${id}`);
    return d;
  }

  /** Partition-replicas each device should hold. */
  wanted(): Map<number, number> {
    const active = this.data.devices.filter((d) => d.weight > 0);
    const total = active.reduce((s, d) => s + d.weight, 0);
    const slots = this.data.replicas * 2 ** this.data.partPower;
    return new Map(active.map((d) => [d.id, (d.weight / total) * slots]));
  }

  partCounts(): Map<number, number> {
    const counts = new Map<number, number>(this.data.devices.map((d) => [d.id, 0]));
    for (const row of this.data.replica2part2dev) for (const id of row) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  balance(): number {
    const wanted = this.wanted();
    const counts = this.partCounts();
    let worst = 0;
    for (const [id, w] of wanted) worst = Math.max(worst, (Math.abs((counts.get(id) ?? 0) - w) / w) * 100);
    return worst;
  }

  rebalance(): RebalanceResult {
    const { replicas, partPower } = this.data;
    const parts = 2 ** partPower;
    const active = this.data.devices.filter((d) => d.weight > 0);
    if (active.length < replicas) throw new RingBuilderError(`${replicas} replicas need at least ${replicas} devices with weight > 0 (have ${active.length})`);
    const byId = new Map(active.map((d) => [d.id, d]));
    const wanted = this.wanted();
    const old = this.data.replica2part2dev;
    const table: number[][] = Array.from({ length: replicas }, (_, r) => Array.from({ length: parts }, (_, p) => (old.length === replicas || r < old.length ? (old[r]?.[p] ?? -1) : -1)));
    const counts = new Map(active.map((d) => [d.id, 0]));
    const zoneKey = (d: RingDevice) => `${d.region}/${d.zone}`;
    const zoneCount = new Set(active.map(zoneKey)).size;
    const order = spreadOrder(parts);

    // 1. Drop assignments to departed devices, duplicates, and avoidable zone collisions.
    for (const p of order) {
      const seenDev = new Set<number>();
      const seenZone = new Set<string>();
      for (let r = 0; r < replicas; r++) {
        const dev = byId.get(table[r]![p]!);
        if (!dev || seenDev.has(dev.id) || (seenZone.has(zoneKey(dev)) && seenZone.size < Math.min(replicas, zoneCount))) {
          table[r]![p] = -1;
          continue;
        }
        seenDev.add(dev.id);
        seenZone.add(zoneKey(dev));
        counts.set(dev.id, counts.get(dev.id)! + 1);
      }
    }
    // 2. Shed overload: a device keeps at most ceil(wanted) assignments. The first pass takes
    //    at most one replica per partition, so the holes land where a new device can fill them.
    for (const maxHoles of [1, replicas]) {
      for (const p of order) {
        for (let r = 0; r < replicas; r++) {
          const id = table[r]![p]!;
          if (id < 0) continue;
          const holes = table.reduce((n, row) => n + (row[p]! < 0 ? 1 : 0), 0);
          if (holes < maxHoles && counts.get(id)! > Math.ceil(wanted.get(id)!)) {
            table[r]![p] = -1;
            counts.set(id, counts.get(id)! - 1);
          }
        }
      }
    }
    // 3. Fill holes: dispersion first (new region, zone, host), then the most under-filled device.
    for (const p of order) {
      for (let r = 0; r < replicas; r++) {
        if (table[r]![p]! >= 0) continue;
        const holders = table.map((row) => byId.get(row[p]!)).filter((d): d is RingDevice => d !== undefined);
        let best: RingDevice | undefined;
        let bestScore: number[] = [];
        for (const d of active) {
          if (holders.some((h) => h.id === d.id)) continue;
          const score = [
            holders.some((h) => h.region === d.region) ? 0 : 1,
            holders.some((h) => zoneKey(h) === zoneKey(d)) ? 0 : 1,
            holders.some((h) => (h.ip ?? h.path) === (d.ip ?? d.path)) ? 0 : 1,
            (wanted.get(d.id)! - counts.get(d.id)!) / wanted.get(d.id)!,
          ];
          if (!best || compareScores(score, bestScore) > 0) {
            best = d;
            bestScore = score;
          }
        }
        table[r]![p] = best!.id;
        counts.set(best!.id, counts.get(best!.id)! + 1);
      }
    }
    let moved = 0;
    for (let r = 0; r < replicas; r++) for (let p = 0; p < parts; p++) if (old[r]?.[p] !== table[r]![p]) moved++;
    this.data.replica2part2dev = table;
    this.data.version += 1;
    this.data.dirty = false;
    return { moved, balance: this.balance() };
  }
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
