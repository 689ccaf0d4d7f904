import { RingBuilder, RingBuilderError } from './builder.js';
import { loadRingFile, saveRingFile } from './store.js';
import { RING_KINDS, type RingDevice, type RingKind } from './types.js';

/**
 * The operations behind `nubes ring ...` (swift-ring-builder's create/add/rebalance/show),
 * on the ring files under <data_dir>/object-store/rings. They return printable text.
 */

export function parseKinds(arg: string): RingKind[] {
  if (arg === 'all') return [...RING_KINDS];
  if ((RING_KINDS as readonly string[]).includes(arg)) return [arg as RingKind];
  throw new RingBuilderError(`ring must be account, container, object or all (got "${arg}")`);
}

function open(root: string, kind: RingKind): RingBuilder {
  const data = loadRingFile(root, kind);
  if (!data) throw new RingBuilderError(`no ${kind} ring yet: run "nubes ring create ${kind}" first`);
  return new RingBuilder(data);
}

export function ringCreate(root: string, kinds: RingKind[], partPower: number, replicas: number, minPartHours: number, force = false): string {
  const out: string[] = [];
  for (const kind of kinds) {
    if (!force && loadRingFile(root, kind)) throw new RingBuilderError(`${kind} ring already exists`);
    saveRingFile(root, RingBuilder.create(kind, partPower, replicas, minPartHours).data);
    out.push(`${kind}: created, part power ${partPower}, ${replicas} replicas`);
  }
  return out.join('\n');
}

/**
 * Device spec like swift-ring-builder's: "r1z1-127.0.0.1:6200/sdb1" (remote node) or
 * "r1z2-/srv/node/d2" (local: the last path element is the device, the rest its parent).
 */
export function parseDeviceSpec(spec: string, weight: number): Omit<RingDevice, 'id'> {
  const m = /^r(\d+)z(\d+)-(.+)\/([^/]+)$/.exec(spec);
  if (!m) throw new RingBuilderError(`bad device "${spec}": expected r<region>z<zone>-<ip>:<port>/<device> or r<region>z<zone>-/<path>/<device>`);
  const [, region, zone, where, device] = m as unknown as [string, string, string, string, string];
  const base = { region: Number(region), zone: Number(zone), device, weight };
  if (where.startsWith('/')) return { ...base, path: where };
  const hp = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d+)$/.exec(where);
  if (!hp) throw new RingBuilderError(`bad device location "${where}": expected ip:port or an absolute path`);
  return { ...base, ip: hp[1]!.replace(/^\[|\]$/g, ''), port: Number(hp[2]) };
}

export function ringAdd(root: string, kinds: RingKind[], device: Omit<RingDevice, 'id'>): string {
  const out: string[] = [];
  for (const kind of kinds) {
    const b = open(root, kind);
    const dev = b.addDevice({ ...device });
    saveRingFile(root, b.data);
    out.push(`${kind}: device d${dev.id} r${dev.region}z${dev.zone}-${dev.ip !== undefined ? `${dev.ip}:${dev.port}` : (dev.path ?? '')}/${dev.device} weight ${dev.weight} added`);
  }
  return out.join('\n');
}

export function ringSetWeight(root: string, kinds: RingKind[], id: number, weight: number): string {
  for (const kind of kinds) {
    const b = open(root, kind);
    b.setWeight(id, weight);
    saveRingFile(root, b.data);
  }
  return `device ${id} weight set to ${weight}; run "nubes ring rebalance" to apply`;
}

export function ringRemove(root: string, kinds: RingKind[], id: number): string {
  for (const kind of kinds) {
    const b = open(root, kind);
    b.removeDevice(id);
    saveRingFile(root, b.data);
  }
  return `device ${id} removed; run "nubes ring rebalance" to move its partitions`;
}

export function ringRebalance(root: string, kinds: RingKind[]): string {
  const out: string[] = [];
  for (const kind of kinds) {
    const b = open(root, kind);
    const res = b.rebalance();
    saveRingFile(root, b.data);
    out.push(`${kind}: reassigned ${res.moved} partition replicas; balance is now ${res.balance.toFixed(2)}%`);
  }
  return out.join('\n');
}

export function ringShow(root: string, kinds: RingKind[]): string {
  const out: string[] = [];
  for (const kind of kinds) {
    const data = loadRingFile(root, kind);
    if (!data) {
      out.push(`${kind}: no ring`);
      continue;
    }
    const b = new RingBuilder(data);
    const counts = b.partCounts();
    const zones = new Set(data.devices.map((d) => `${d.region}/${d.zone}`));
    out.push(
      `${kind}.ring.json, build version ${data.version}${data.dirty ? ' (changed since last rebalance)' : ''}`,
      `${2 ** data.partPower} partitions, ${data.replicas} replicas, ${new Set(data.devices.map((d) => d.region)).size} regions, ${zones.size} zones, ${data.devices.length} devices, ${data.devices.length && data.replica2part2dev.length ? b.balance().toFixed(2) : '0.00'} balance`,
      `The minimum number of hours before a partition can be reassigned is ${data.minPartHours}`,
      'Devices:   id region zone  ip address:port / path       name   weight partitions',
    );
    for (const d of data.devices) {
      const where = d.ip !== undefined ? `${d.ip}:${d.port}` : (d.path ?? '-');
      out.push(`${String(d.id).padStart(13)} ${String(d.region).padStart(6)} ${String(d.zone).padStart(4)}  ${where.padEnd(27)} ${d.device.padEnd(6)} ${d.weight.toFixed(2).padStart(7)} ${String(counts.get(d.id) ?? 0).padStart(10)}`);
    }
  }
  return out.join('\n');
}
