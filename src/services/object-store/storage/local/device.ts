import type { Readable } from 'node:stream';
import type { ContainerListing, ListingQuery, ObjectListing } from '../types.js';
import type { AccountInit, AccountStat, ContainerInit, ContainerRow, ContainerStat, ObjectRow, RowPage } from './db.js';
import type { DataMeta, OnDiskState } from './diskfile.js';

/**
 * One ring device as the proxy sees it: the object, container and account servers that keep
 * its data. `LocalDevice` serves a directory on this machine; `RemoteDevice` reaches a device
 * of a `nubes agent storage` node over HTTP. The cluster logic (quorum, handoffs, newest
 * replica wins), the replicator and the updater only use this interface, so a ring may mix
 * both kinds freely.
 *
 * Every method rejects with `DeviceUnavailable` when the device can't be used (unmounted,
 * offline, unreachable); callers count such a replica as missing.
 */
export interface StorageDevice {
  /** The device's id in the rings. */
  readonly id: number;
  /** For messages: a directory or ip:port/device. */
  readonly label: string;
  /** False while the device is known to be unusable; a cheap check, no I/O. */
  usable(): boolean;
  readonly objects: ObjectServer;
  readonly containers: ContainerServer;
  readonly accounts: DatabaseServer<'accounts'>;
}

/** A container update owed to a container server that could not take it at write time. */
export interface AsyncPending {
  account: string;
  container: string;
  row: ObjectRow;
  /**
   * Set on the record written just before an object write commits and removed once every
   * container replica has the row: should the proxy die in between, the updater finds it, and
   * merges the row if (and only if) the write did land. Confirmed pendings have no intent.
   */
  intent?: { savedAt: number };
}

/** The temp file of one replica being written; nothing is visible until `commit` resolves. */
export interface ReplicaWriter {
  write(chunk: Buffer): Promise<void>;
  /** Appends the metadata, makes the file durable and renames it into place. */
  commit(meta: DataMeta): Promise<void>;
  /** Drops the temp file; safe to call at any time, also after a failure. */
  abort(): Promise<void>;
}

/** One object server on one device (Swift's object server + the replicator's ssync calls). */
export interface ObjectServer {
  /** Newest state of an object, null when the device never saw it; rejects with CorruptObject when its files can't be parsed. */
  readState(part: number, hash: string): Promise<OnDiskState | null>;
  /** The object bytes of data file `dataName`, within `range` (absolute offsets, end exclusive). */
  openData(part: number, hash: string, dataName: string, size: number, range?: { start: number; end: number }): Promise<Readable>;
  createWriter(part: number, hash: string): Promise<ReplicaWriter>;
  /**
   * Stores a whole .data/.ts/.meta file durably (temp file, fsync, rename, directory fsync),
   * then keeps only what the newest state needs. Tombstones, POST metadata and replication
   * all come through here.
   */
  putFile(part: number, hash: string, name: string, body: Readable | Buffer | string): Promise<void>;
  /** The raw bytes of a committed file (data files include their footer). */
  readFile(part: number, hash: string, name: string): Promise<Readable>;
  /** The .data/.ts/.meta file names of an object, [] when there are none. */
  listFiles(part: number, hash: string): Promise<string[]>;
  /** Moves an object's files aside so nobody serves them again. */
  quarantine(part: number, hash: string): Promise<void>;
  /** Partitions with objects on this device, primaries and handoffs alike. */
  partitions(): Promise<number[]>;
  /** md5 of each suffix's file names: replicas agree on a suffix iff they hold the same files. */
  suffixHashes(part: number): Promise<Map<string, string>>;
  hashesIn(part: number, suffix?: string): Promise<Array<{ suffix: string; hash: string }>>;
  /** Drops a whole partition (a handoff that handed its data back). */
  removePartition(part: number): Promise<void>;
  /** Stores a pending (durably) or an intent (crash-safe only); resolves to its id. */
  saveAsyncPending(pending: AsyncPending): Promise<string>;
  /** Up to `limit` owed updates with the ids `dropAsyncPending` takes. */
  asyncPendings(limit: number): Promise<Array<{ id: string; pending: AsyncPending }>>;
  dropAsyncPending(id: string): Promise<void>;
}

export type DbKind = 'accounts' | 'containers';

/** What each kind of database holds: its stat record, creation parameters, rows and listing entries. */
export interface DbShapes {
  accounts: { stat: AccountStat; init: AccountInit; row: ContainerRow; listing: ContainerListing };
  containers: { stat: ContainerStat; init: ContainerInit; row: ObjectRow; listing: ObjectListing };
}

/** Where a database replica sits: the partition of its ring and the hash of its name. */
export interface DbLocation {
  part: number;
  hash: string;
}

/** An account or container server on one device: one SQLite database per account or container replica. */
export interface DatabaseServer<K extends DbKind> {
  /** Stats and metadata; null when this replica doesn't exist. */
  stat(at: DbLocation): Promise<DbShapes[K]['stat'] | null>;
  /** Creates the replica unless it exists (idempotent). */
  create(at: DbLocation, init: DbShapes[K]['init']): Promise<void>;
  /** Merges metadata ('' removes) and raises the put timestamp; false when the replica is missing. */
  update(at: DbLocation, set: Record<string, string>, putTimestamp?: string): Promise<boolean>;
  remove(at: DbLocation): Promise<void>;
  list(at: DbLocation, query: ListingQuery): Promise<Array<DbShapes[K]['listing']> | null>;
  /** Every row, deletions included, a page at a time in name order (replication). */
  rows(at: DbLocation, page: RowPage): Promise<Array<DbShapes[K]['row']> | null>;
  /** Applies rows newer than what the replica holds: how many changed, null when the replica is missing. */
  merge(at: DbLocation, rows: Array<DbShapes[K]['row']>): Promise<number | null>;
  /** A fingerprint of the rows; replicas with equal ones skip the row exchange. */
  syncPoint(at: DbLocation): Promise<string | null>;
  /** Every database replica on this device (the replicator's walk). */
  held(): Promise<DbLocation[]>;
}

export interface ContainerServer extends DatabaseServer<'containers'> {
  /** Fast-POST changed an object's content type: the listing shows it without a new data timestamp. */
  setContentType(at: DbLocation, name: string, contentType: string): Promise<void>;
}
