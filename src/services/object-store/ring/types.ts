/**
 * Rings map names to partitions and partitions to devices, like Swift's ring: the top
 * `partPower` bits of md5(prefix + "/account[/container[/object]]" + suffix) pick the partition,
 * `replica2part2dev[r][p]` the device holding replica r of partition p.
 */
export type RingKind = 'account' | 'container' | 'object';
export const RING_KINDS: readonly RingKind[] = ['account', 'container', 'object'];

export interface RingDevice {
  id: number;
  region: number;
  zone: number;
  /** Remote storage node (`nubes agent storage`); absent for a device on this machine. */
  ip?: string;
  port?: number;
  /** Local devices: the directory holding the device directory (like /srv/node). */
  path?: string;
  /** Device directory name (like sdb1). */
  device: string;
  weight: number;
  meta?: string;
}

/** The persisted JSON: builder state and ring in one file (Swift splits .builder and .ring.gz). */
export interface RingFile {
  format: 1;
  kind: RingKind;
  partPower: number;
  replicas: number;
  /** Accepted for swift-ring-builder compatibility; reassignment is not rate limited. */
  minPartHours: number;
  devices: RingDevice[];
  /** [replica][partition] → device id; empty until the first rebalance. */
  replica2part2dev: number[][];
  /** Bumped on every rebalance so daemons can notice a new ring. */
  version: number;
  /** Devices or weights changed since the last rebalance. */
  dirty: boolean;
}

/** The cluster-wide secret salting every hash (Swift's swift_hash_path_prefix/suffix). */
export interface HashPathConfig {
  prefix: string;
  suffix: string;
}
