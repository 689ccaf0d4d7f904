import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../../common/clock.js';
import { BodyMeter, precheckWrite, toStorageError, verifyWrite } from './ingest.js';
import { compareNames, runListing, type RowBounds } from './listing.js';
import { cleanHeaders, cloneInfo, DEFAULT_POLICY, isExpired, mergeMetadata, mergePostHeaders, STORAGE_POLICY_KEY, symlinkPath } from './semantics.js';
import { compareTimestamps, listingDate, timestampFromDate, timestampToDate } from './timestamp.js';
import {
  StorageError,
  type AccountInfo,
  type ContainerInfo,
  type ContainerListing,
  type ListingQuery,
  type MetadataUpdate,
  type ObjectInfo,
  type ObjectListing,
  type ObjectMetaUpdate,
  type ObjectWriteMeta,
  type StorageCluster,
} from './types.js';

interface MemObject {
  /** Newest event for this name: data, or a tombstone (data undefined). */
  timestamp: string;
  data?: Buffer;
  info?: ObjectInfo;
}

interface MemContainer {
  createdAt: string;
  putTimestamp: string;
  storagePolicy: string;
  metadata: Record<string, string>;
  objects: Map<string, MemObject>;
}

interface MemAccount {
  createdAt: string;
  putTimestamp: string;
  metadata: Record<string, string>;
  containers: Map<string, MemContainer>;
}

/** Applies RowBounds to a name list; the in-memory twin of the SQLite range query. */
export function fetchSorted<T extends { name: string }>(rows: T[], bounds: RowBounds, reverse: boolean, limit: number): T[] {
  const inRange = rows.filter(
    (r) =>
      (bounds.gt === undefined || compareNames(r.name, bounds.gt) > 0) &&
      (bounds.gte === undefined || compareNames(r.name, bounds.gte) >= 0) &&
      (bounds.lt === undefined || compareNames(r.name, bounds.lt) < 0),
  );
  inRange.sort((a, b) => compareNames(a.name, b.name));
  if (reverse) inRange.reverse();
  return inRange.slice(0, limit);
}

/**
 * The whole cluster in one process's memory: the reference implementation of StorageCluster
 * semantics (used by API tests and by the contract suite as the yardstick). Not durable.
 */
export class MemoryCluster implements StorageCluster {
  private readonly accounts = new Map<string, MemAccount>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  private nowTs(): string {
    return timestampFromDate(this.clock.now());
  }

  private accountInfo(a: MemAccount): AccountInfo {
    let objectCount = 0;
    let bytesUsed = 0;
    for (const c of a.containers.values()) {
      const s = this.containerStats(c);
      objectCount += s.count;
      bytesUsed += s.bytes;
    }
    return { containerCount: a.containers.size, objectCount, bytesUsed, createdAt: a.createdAt, putTimestamp: a.putTimestamp, metadata: { ...a.metadata } };
  }

  private containerStats(c: MemContainer): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const o of c.objects.values()) {
      if (o.info) {
        count++;
        bytes += o.info.size;
      }
    }
    return { count, bytes };
  }

  private containerInfo(c: MemContainer): ContainerInfo {
    const s = this.containerStats(c);
    return { objectCount: s.count, bytesUsed: s.bytes, createdAt: c.createdAt, putTimestamp: c.putTimestamp, storagePolicy: c.storagePolicy, metadata: { ...c.metadata } };
  }

  private ensureAccount(account: string): MemAccount {
    let a = this.accounts.get(account);
    if (!a) {
      const ts = this.nowTs();
      a = { createdAt: ts, putTimestamp: ts, metadata: {}, containers: new Map() };
      this.accounts.set(account, a);
    }
    return a;
  }

  private container(account: string, container: string): MemContainer | undefined {
    return this.accounts.get(account)?.containers.get(container);
  }

  async headAccount(account: string): Promise<AccountInfo | null> {
    const a = this.accounts.get(account);
    return a ? this.accountInfo(a) : null;
  }

  async updateAccount(account: string, meta: MetadataUpdate): Promise<AccountInfo> {
    const a = this.ensureAccount(account);
    a.metadata = mergeMetadata(a.metadata, meta.set);
    return this.accountInfo(a);
  }

  async listContainers(account: string, query: ListingQuery): Promise<ContainerListing[]> {
    const a = this.accounts.get(account);
    if (!a) return [];
    const rows = [...a.containers.entries()].map(([name, c]) => {
      const s = this.containerStats(c);
      return { name, count: s.count, bytes: s.bytes, lastModified: listingDate(c.putTimestamp) };
    });
    return runListing(query, (b, r, l) => fetchSorted(rows, b, r, l));
  }

  async deleteAccount(account: string, _timestamp: string): Promise<void> {
    // The account reaper's end state, reached at once: nothing of the account remains.
    this.accounts.delete(account);
  }

  async headContainer(account: string, container: string): Promise<ContainerInfo | null> {
    const c = this.container(account, container);
    return c ? this.containerInfo(c) : null;
  }

  async putContainer(account: string, container: string, meta: MetadataUpdate, timestamp: string): Promise<{ created: boolean; info: ContainerInfo }> {
    const a = this.ensureAccount(account);
    let c = a.containers.get(container);
    const created = !c;
    if (!c) {
      c = { createdAt: timestamp, putTimestamp: timestamp, storagePolicy: meta.set[STORAGE_POLICY_KEY] || DEFAULT_POLICY, metadata: {}, objects: new Map() };
      a.containers.set(container, c);
    } else if (compareTimestamps(timestamp, c.putTimestamp) > 0) {
      c.putTimestamp = timestamp;
    }
    c.metadata = mergeMetadata(c.metadata, meta.set);
    return { created, info: this.containerInfo(c) };
  }

  async updateContainer(account: string, container: string, meta: MetadataUpdate): Promise<ContainerInfo | null> {
    const c = this.container(account, container);
    if (!c) return null;
    c.metadata = mergeMetadata(c.metadata, meta.set);
    return this.containerInfo(c);
  }

  async deleteContainer(account: string, container: string, _timestamp: string): Promise<'deleted' | 'not_found' | 'conflict'> {
    const a = this.accounts.get(account);
    const c = a?.containers.get(container);
    if (!a || !c) return 'not_found';
    if (this.containerStats(c).count > 0) return 'conflict';
    a.containers.delete(container);
    return 'deleted';
  }

  async listObjects(account: string, container: string, query: ListingQuery): Promise<ObjectListing[] | null> {
    const c = this.container(account, container);
    if (!c) return null;
    const rows: Array<Extract<ObjectListing, { name: string }>> = [];
    for (const [name, o] of c.objects) {
      if (!o.info) continue;
      const row: Extract<ObjectListing, { name: string }> = { name, hash: o.info.etag, bytes: o.info.size, contentType: o.info.contentType, lastModified: listingDate(o.info.timestamp) };
      const link = symlinkPath(account, o.info.headers);
      if (link !== undefined) row.symlinkPath = link;
      rows.push(row);
    }
    return runListing(query, (b, r, l) => fetchSorted(rows, b, r, l));
  }

  async putObject(account: string, container: string, object: string, body: Readable, meta: ObjectWriteMeta): Promise<ObjectInfo> {
    const c = this.container(account, container);
    if (!c) {
      body.resume();
      throw new StorageError('not_found', 'container not found');
    }
    precheckWrite(meta);
    const existing = c.objects.get(object);
    if (existing && compareTimestamps(existing.timestamp, meta.timestamp) >= 0) {
      body.resume();
      throw new StorageError('conflict', 'a newer version exists');
    }
    const meter = new BodyMeter(meta);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    try {
      await pipeline(body, meter, sink);
    } catch (err) {
      throw toStorageError(err);
    }
    const etag = meter.digest();
    verifyWrite(meta, meter.bytes, etag);
    const current = c.objects.get(object);
    if (current && compareTimestamps(current.timestamp, meta.timestamp) >= 0) throw new StorageError('conflict', 'a newer version exists');
    const info: ObjectInfo = {
      name: object,
      size: meter.bytes,
      etag,
      contentType: meta.contentType,
      timestamp: meta.timestamp,
      lastModified: timestampToDate(meta.timestamp),
      headers: cleanHeaders(meta.headers),
    };
    c.objects.set(object, { timestamp: meta.timestamp, data: Buffer.concat(chunks), info });
    return cloneInfo(info);
  }

  private live(account: string, container: string, object: string): MemObject | undefined {
    const o = this.container(account, container)?.objects.get(object);
    if (!o?.info || isExpired(o.info.headers, this.clock.now())) return undefined;
    return o;
  }

  async headObject(account: string, container: string, object: string): Promise<ObjectInfo | null> {
    const o = this.live(account, container, object);
    return o?.info ? cloneInfo(o.info) : null;
  }

  async getObject(account: string, container: string, object: string, range?: { start: number; end: number }): Promise<{ info: ObjectInfo; body: Readable } | null> {
    const o = this.live(account, container, object);
    if (!o?.info || !o.data) return null;
    const data = range ? o.data.subarray(range.start, Math.min(range.end, o.data.length)) : o.data;
    return { info: cloneInfo(o.info), body: Readable.from([data], { objectMode: false }) };
  }

  async postObject(account: string, container: string, object: string, meta: ObjectMetaUpdate): Promise<ObjectInfo | null> {
    const o = this.live(account, container, object);
    if (!o?.info) return null;
    if (compareTimestamps(o.timestamp, meta.timestamp) >= 0) throw new StorageError('conflict', 'a newer version exists');
    o.info = {
      ...o.info,
      contentType: meta.contentType ?? o.info.contentType,
      timestamp: meta.timestamp,
      lastModified: timestampToDate(meta.timestamp),
      headers: mergePostHeaders(o.info.headers, meta.headers),
    };
    o.timestamp = meta.timestamp;
    return cloneInfo(o.info);
  }

  async deleteObject(account: string, container: string, object: string, timestamp: string): Promise<boolean> {
    const c = this.container(account, container);
    if (!c) return false;
    const o = c.objects.get(object);
    if (o && compareTimestamps(o.timestamp, timestamp) >= 0) throw new StorageError('conflict', 'a newer version exists');
    const existed = o?.info !== undefined && !isExpired(o.info.headers, this.clock.now());
    c.objects.set(object, { timestamp });
    return existed;
  }

  /** The expirer's job for this backend: drop objects whose X-Delete-At has passed. */
  expireNow(): number {
    let n = 0;
    const now = this.clock.now();
    for (const a of this.accounts.values()) {
      for (const c of a.containers.values()) {
        for (const [name, o] of c.objects) {
          if (o.info && isExpired(o.info.headers, now)) {
            c.objects.set(name, { timestamp: timestampFromDate(now) });
            n++;
          }
        }
      }
    }
    return n;
  }
}

export { STORAGE_POLICY_KEY };
