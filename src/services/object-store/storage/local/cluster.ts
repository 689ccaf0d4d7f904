import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../../../common/clock.js';
import { BodyMeter, precheckWrite, toStorageError, verifyWrite } from '../ingest.js';
import { cleanHeaders, DEFAULT_POLICY, isExpired, mergePostHeaders, STORAGE_POLICY_KEY, symlinkPath } from '../semantics.js';
import { compareTimestamps, normalizeTimestamp, timestampFromDate, timestampToDate } from '../timestamp.js';
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
} from '../types.js';
import { AccountBroker, ContainerBroker, DbCache, type ObjectRow } from './db.js';
import { dbReplicas, openAccount, openContainer, quorum, readReplica, writeReplicas } from './dbservers.js';
import { CorruptObject, suffixOf, type DataWriter, type ObjectDisk, type OnDiskState } from './diskfile.js';
import { writeSmallFileDurably } from './fsutil.js';
import { bootstrapRings, defaultDevices, Devices, type Rings } from './placement.js';

export interface LocalClusterOptions {
  /** <data_dir>/object-store: rings/, devices/, hash_path.json, expirer.sqlite */
  root: string;
  /** Replicas for newly created rings (existing ring files win). Default 1. */
  replicas?: number;
  /** Device directories for newly created rings; default <root>/devices/d0..d<replicas-1>. */
  devices?: string[];
  /** Partition power for newly created rings. Default 10. */
  partPower?: number;
  clock?: Clock;
  /** Failure injection for durability tests: called with each chunk about to be written to a replica. */
  onReplicaWrite?: (disk: ObjectDisk, bytesSoFar: number) => void;
}

/** One replica's answer for an object. */
interface ReplicaState {
  disk: ObjectDisk;
  part: number;
  state: OnDiskState;
}

export interface AsyncPending {
  account: string;
  container: string;
  row: ObjectRow;
}

function newer(a: OnDiskState, b: OnDiskState): boolean {
  const main = (s: OnDiskState) => (s.kind === 'data' ? s.dataFile.replace(/^.*\//, '').replace(/\.data$/, '') : s.timestamp);
  const c = compareTimestamps(main(a), main(b));
  return c !== 0 ? c > 0 : compareTimestamps(a.timestamp, b.timestamp) > 0;
}

/**
 * The StorageCluster on local devices placed by the three rings: the proxy's fan-out logic
 * (quorum writes, newest-replica reads, handoffs) over the object, container and account
 * servers of every device. Remote devices are where `nubes agent storage` would plug in.
 */
export class LocalCluster implements StorageCluster {
  readonly devices: Devices;
  readonly dbs = new DbCache();
  readonly clock: Clock;
  private readonly expiring: Database.Database;

  constructor(
    readonly root: string,
    readonly rings: Rings,
    private readonly opts: LocalClusterOptions,
  ) {
    this.devices = new Devices(rings);
    this.clock = opts.clock ?? systemClock;
    // The expirer's queue (Swift keeps it in the hidden .expiring_objects account).
    this.expiring = new Database(join(root, 'expirer.sqlite'));
    this.expiring.pragma('journal_mode = WAL');
    this.expiring.exec('CREATE TABLE IF NOT EXISTS expiring (delete_at INTEGER NOT NULL, account TEXT NOT NULL, container TEXT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (account, container, object, delete_at))');
  }

  close(): void {
    this.dbs.closeAll();
    this.expiring.close();
  }

  private nowTs(): string {
    return timestampFromDate(this.clock.now());
  }

  // ---- accounts -------------------------------------------------------------------------

  private accountSet(account: string) {
    return dbReplicas(this.rings.account, this.devices, 'accounts', account);
  }

  private containerSet(account: string, container: string) {
    return dbReplicas(this.rings.container, this.devices, 'containers', account, container);
  }

  private ensureAccount(account: string): void {
    const set = this.accountSet(account);
    const ts = this.nowTs();
    writeReplicas(set, (r) => openAccount(this.dbs, r) ?? AccountBroker.create(this.dbs, r.path, account, ts));
  }

  async headAccount(account: string): Promise<AccountInfo | null> {
    const stat = readReplica(this.accountSet(account).replicas, (r) => openAccount(this.dbs, r)?.stat() ?? null);
    if (!stat) return null;
    return { containerCount: stat.containerCount, objectCount: stat.objectCount, bytesUsed: stat.bytesUsed, createdAt: stat.createdAt, putTimestamp: stat.putTimestamp, metadata: stat.metadata };
  }

  async updateAccount(account: string, meta: MetadataUpdate): Promise<AccountInfo> {
    this.ensureAccount(account);
    writeReplicas(this.accountSet(account), (r) => openAccount(this.dbs, r)!.update(meta.set));
    return (await this.headAccount(account))!;
  }

  async listContainers(account: string, query: ListingQuery): Promise<ContainerListing[]> {
    return readReplica(this.accountSet(account).replicas, (r) => openAccount(this.dbs, r)?.list(query) ?? null) ?? [];
  }

  /** Reaps at once what Swift's account reaper removes later: every object and container. */
  async deleteAccount(account: string, timestamp: string): Promise<void> {
    const names = readReplica(this.accountSet(account).replicas, (r) => openAccount(this.dbs, r)?.liveContainers() ?? null) ?? [];
    for (const container of names) {
      for (;;) {
        const page = (await this.listObjects(account, container, { limit: 1000 })) ?? [];
        if (page.length === 0) break;
        for (const o of page) if ('name' in o) await this.deleteObject(account, container, o.name, timestamp).catch(() => false);
      }
      await this.deleteContainer(account, container, timestamp);
    }
    for (const r of this.accountSet(account).replicas) this.dbs.remove(r.path);
  }

  // ---- containers -----------------------------------------------------------------------

  private containerStat(account: string, container: string) {
    return readReplica(this.containerSet(account, container).replicas, (r) => openContainer(this.dbs, r)?.stat() ?? null);
  }

  /** The container server reports its stats to the account server (Swift's container update). */
  private reportContainer(account: string, container: string, deletedAt?: string): void {
    const stat = deletedAt ? null : this.containerStat(account, container);
    const row = stat
      ? { name: container, putTimestamp: stat.putTimestamp, objectCount: stat.objectCount, bytesUsed: stat.bytesUsed, deleted: false }
      : { name: container, putTimestamp: deletedAt ?? this.nowTs(), objectCount: 0, bytesUsed: 0, deleted: true };
    for (const r of this.accountSet(account).replicas) {
      try {
        (openAccount(this.dbs, r) ?? AccountBroker.create(this.dbs, r.path, account, this.nowTs())).putContainer(row);
      } catch {
        // stale account stats heal with the next report
      }
    }
  }

  async headContainer(account: string, container: string): Promise<ContainerInfo | null> {
    const s = this.containerStat(account, container);
    return s ? { objectCount: s.objectCount, bytesUsed: s.bytesUsed, createdAt: s.createdAt, putTimestamp: s.putTimestamp, storagePolicy: s.storagePolicy, metadata: s.metadata } : null;
  }

  async putContainer(account: string, container: string, meta: MetadataUpdate, timestamp: string): Promise<{ created: boolean; info: ContainerInfo }> {
    this.ensureAccount(account);
    const created = this.containerStat(account, container) === null;
    const init = { account, container, timestamp, storagePolicy: meta.set[STORAGE_POLICY_KEY] || DEFAULT_POLICY };
    writeReplicas(this.containerSet(account, container), (r) => {
      const existing = openContainer(this.dbs, r);
      (existing ?? ContainerBroker.create(this.dbs, r.path, init)).update(meta.set, existing ? timestamp : undefined);
    });
    this.reportContainer(account, container);
    return { created, info: (await this.headContainer(account, container))! };
  }

  async updateContainer(account: string, container: string, meta: MetadataUpdate): Promise<ContainerInfo | null> {
    if (!this.containerStat(account, container)) return null;
    writeReplicas(this.containerSet(account, container), (r) => openContainer(this.dbs, r)?.update(meta.set));
    return this.headContainer(account, container);
  }

  async deleteContainer(account: string, container: string, timestamp: string): Promise<'deleted' | 'not_found' | 'conflict'> {
    const stat = this.containerStat(account, container);
    if (!stat) return 'not_found';
    if (stat.objectCount > 0) return 'conflict';
    for (const r of this.containerSet(account, container).replicas) this.dbs.remove(r.path);
    this.reportContainer(account, container, compareTimestamps(timestamp, stat.putTimestamp) > 0 ? timestamp : this.nowTs());
    return 'deleted';
  }

  async listObjects(account: string, container: string, query: ListingQuery): Promise<ObjectListing[] | null> {
    return readReplica(this.containerSet(account, container).replicas, (r) => openContainer(this.dbs, r)?.list(query) ?? null);
  }

  // ---- objects --------------------------------------------------------------------------

  /** States of every reachable replica (primaries, then handoffs when a primary is down). */
  private async replicaStates(account: string, container: string, object: string): Promise<{ part: number; hash: string; states: ReplicaState[] }> {
    const ring = this.rings.object;
    const { part, hash, nodes } = ring.getNodes(account, container, object);
    const disks = nodes.map((n) => this.devices.available(n)).filter((d): d is ObjectDisk => d !== undefined);
    if (disks.length < nodes.length) for (const h of ring.getHandoffNodes(part)) {
      const d = this.devices.available(h);
      if (d && !disks.includes(d)) disks.push(d);
    }
    const states: ReplicaState[] = [];
    for (const disk of disks) {
      try {
        const state = await disk.readState(part, hash);
        if (state) states.push({ disk, part, state });
      } catch (err) {
        // A replica whose files can't be parsed is quarantined; the replicator restores it.
        if (err instanceof CorruptObject) await disk.quarantine(part, hash).catch(() => undefined);
      }
    }
    return { part, hash, states };
  }

  private newest(states: ReplicaState[]): ReplicaState | undefined {
    let best: ReplicaState | undefined;
    for (const s of states) if (!best || newer(s.state, best.state)) best = s;
    return best;
  }

  private infoOf(object: string, s: Extract<OnDiskState, { kind: 'data' }>): ObjectInfo {
    const post = s.post;
    return {
      name: object,
      size: s.meta.size,
      etag: s.meta.etag,
      contentType: post?.contentType ?? s.meta.contentType,
      timestamp: post?.timestamp ?? s.meta.timestamp,
      lastModified: timestampToDate(post?.timestamp ?? s.meta.timestamp),
      headers: post ? mergePostHeaders(s.meta.headers, post.headers) : { ...s.meta.headers },
    };
  }

  private async live(account: string, container: string, object: string): Promise<{ info: ObjectInfo; replica: ReplicaState; all: ReplicaState[] } | null> {
    const { states } = await this.replicaStates(account, container, object);
    const best = this.newest(states);
    if (!best || best.state.kind !== 'data') return null;
    const info = this.infoOf(object, best.state);
    if (isExpired(info.headers, this.clock.now())) return null;
    return { info, replica: best, all: states };
  }

  /** Target devices for a write: reachable primaries, topped up with handoffs. */
  private writeTargets(part: number): { disks: ObjectDisk[]; total: number } {
    const ring = this.rings.object;
    const primaries = ring.getPartNodes(part);
    const disks = primaries.map((n) => this.devices.available(n)).filter((d): d is ObjectDisk => d !== undefined);
    for (const h of ring.getHandoffNodes(part)) {
      if (disks.length >= primaries.length) break;
      const d = this.devices.available(h);
      if (d && !disks.includes(d)) disks.push(d);
    }
    return { disks, total: primaries.length };
  }

  async putObject(account: string, container: string, object: string, body: Readable, meta: ObjectWriteMeta): Promise<ObjectInfo> {
    const refuse = (err: StorageError): never => {
      body.resume();
      throw err;
    };
    if (!this.containerStat(account, container)) refuse(new StorageError('not_found', 'container not found'));
    try {
      precheckWrite(meta);
    } catch (err) {
      refuse(err as StorageError);
    }
    const { part, hash, states } = await this.replicaStates(account, container, object);
    const current = this.newest(states);
    if (current && compareTimestamps(current.state.timestamp, meta.timestamp) >= 0) refuse(new StorageError('conflict', 'a newer version exists'));
    const { disks, total } = this.writeTargets(part);
    const need = quorum(total);
    if (disks.length < need) refuse(new StorageError('insufficient_storage', `only ${disks.length} of ${total} devices available`));

    const opened = await Promise.allSettled(disks.map(async (d) => ({ disk: d, writer: await d.createWriter(part, hash) })));
    let writers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const abortAll = () => Promise.all(writers.map((w) => w.writer.abort()));
    if (writers.length < need) {
      await abortAll();
      refuse(new StorageError('insufficient_storage', 'could not open enough replicas'));
    }
    const meter = new BodyMeter(meta);
    const hook = this.opts.onReplicaWrite;
    const fanout = new Writable({
      // Back-pressure: the next chunk is requested only once every replica took this one.
      write: (chunk: Buffer, _enc, cb) => {
        const before = meter.bytes - chunk.length;
        void Promise.allSettled(
          writers.map(async (w) => {
            hook?.(w.disk, before);
            await w.writer.write(chunk);
          }),
        ).then(async (results) => {
          const failed = writers.filter((_, i) => results[i]!.status === 'rejected');
          await Promise.all(failed.map((w) => w.writer.abort()));
          writers = writers.filter((w) => !failed.includes(w));
          cb(writers.length < need ? new StorageError('insufficient_storage', 'too many replicas failed during the upload') : null);
        });
      },
    });
    try {
      await pipeline(body, meter, fanout);
      verifyWrite(meta, meter.bytes, meter.digest());
    } catch (err) {
      await abortAll();
      throw toStorageError(err);
    }
    const etag = meter.digest();
    const headers = cleanHeaders(meta.headers);
    const dataMeta = { name: object, account, container, timestamp: normalizeTimestamp(meta.timestamp), contentType: meta.contentType, etag, size: meter.bytes, headers };
    const committed = await Promise.allSettled(writers.map((w) => w.writer.commit(dataMeta)));
    const ok = writers.filter((_, i) => committed[i]!.status === 'fulfilled');
    if (ok.length < need) {
      await Promise.all(writers.map((w: { writer: DataWriter }) => w.writer.abort()));
      throw new StorageError('insufficient_storage', 'too few replicas became durable');
    }
    const info: ObjectInfo = { name: object, size: meter.bytes, etag, contentType: meta.contentType, timestamp: meta.timestamp, lastModified: timestampToDate(meta.timestamp), headers };
    await this.updateContainer_(account, container, ok[0]!.disk, hash, {
      name: object,
      createdAt: dataMeta.timestamp,
      size: meter.bytes,
      contentType: meta.contentType,
      etag,
      deleted: false,
      symlinkPath: symlinkPath(account, headers) ?? null,
    });
    this.trackExpiry(account, container, object, headers);
    return info;
  }

  private trackExpiry(account: string, container: string, object: string, headers: Record<string, string>): void {
    const at = Number(headers['x-delete-at']);
    if (Number.isFinite(at) && headers['x-delete-at'] !== undefined) {
      this.expiring.prepare('INSERT OR IGNORE INTO expiring (delete_at, account, container, object) VALUES (?, ?, ?, ?)').run(Math.floor(at), account, container, object);
    }
  }

  /**
   * The object server's container update: every container replica merges the row; replicas
   * that can't are owed an async pending, saved durably next to the object for the updater.
   */
  private async updateContainer_(account: string, container: string, disk: ObjectDisk, hash: string, row: ObjectRow): Promise<void> {
    const set = this.containerSet(account, container);
    let applied = 0;
    for (const r of set.replicas) {
      try {
        const broker = openContainer(this.dbs, r);
        if (broker) {
          broker.mergeObject(row);
          applied++;
        }
      } catch {
        // counted as missing below
      }
    }
    if (applied < set.total) await this.saveAsyncPending(disk, hash, { account, container, row });
    this.reportContainer(account, container);
  }

  async saveAsyncPending(disk: ObjectDisk, hash: string, pending: AsyncPending): Promise<void> {
    const path = join(disk.root, 'async_pending', suffixOf(hash), `${hash}-${pending.row.createdAt}`);
    await writeSmallFileDurably(disk.tmpDir, path, JSON.stringify(pending));
  }

  /** The updater: replays async pendings until every container replica has them. */
  async processAsyncPendings(): Promise<{ applied: number; remaining: number }> {
    let applied = 0;
    let remaining = 0;
    for (const disk of this.devices.all()) {
      const base = join(disk.root, 'async_pending');
      for (const suffix of await readdir(base).catch(() => [] as string[])) {
        for (const f of await readdir(join(base, suffix)).catch(() => [] as string[])) {
          const file = join(base, suffix, f);
          const pending = JSON.parse(await readFile(file, 'utf8')) as AsyncPending;
          const set = this.containerSet(pending.account, pending.container);
          let ok = 0;
          for (const r of set.replicas) {
            try {
              const b = openContainer(this.dbs, r);
              if (b) (b.mergeObject(pending.row), ok++);
            } catch {
              // retried next pass
            }
          }
          if (ok === set.total) {
            await rm(file, { force: true });
            this.reportContainer(pending.account, pending.container);
            applied++;
          } else remaining++;
        }
      }
    }
    return { applied, remaining };
  }

  async headObject(account: string, container: string, object: string): Promise<ObjectInfo | null> {
    return (await this.live(account, container, object))?.info ?? null;
  }

  async getObject(account: string, container: string, object: string, range?: { start: number; end: number }): Promise<{ info: ObjectInfo; body: Readable } | null> {
    const found = await this.live(account, container, object);
    if (!found || found.replica.state.kind !== 'data') return null;
    const s = found.replica.state;
    return { info: found.info, body: found.replica.disk.openData(s.dataFile, s.meta.size, range) };
  }

  async postObject(account: string, container: string, object: string, meta: ObjectMetaUpdate): Promise<ObjectInfo | null> {
    const found = await this.live(account, container, object);
    if (!found) return null;
    if (compareTimestamps(found.info.timestamp, meta.timestamp) >= 0) throw new StorageError('conflict', 'a newer version exists');
    const post = { timestamp: normalizeTimestamp(meta.timestamp), ...(meta.contentType !== undefined ? { contentType: meta.contentType } : {}), headers: mergePostHeaders({}, meta.headers) };
    const part = found.replica.part;
    const { hash } = this.rings.object.getNodes(account, container, object);
    const holders = found.all.filter((s) => s.state.kind === 'data');
    const done = await Promise.allSettled(holders.map((s) => s.disk.writePost(part, hash, post)));
    if (!done.some((d) => d.status === 'fulfilled')) throw new StorageError('insufficient_storage', 'no replica took the metadata');
    if (meta.contentType !== undefined) {
      for (const r of this.containerSet(account, container).replicas) openContainer(this.dbs, r)?.setContentType(object, meta.contentType);
    }
    const updated = await this.live(account, container, object);
    if (updated) this.trackExpiry(account, container, object, updated.info.headers);
    return updated?.info ?? null;
  }

  async deleteObject(account: string, container: string, object: string, timestamp: string): Promise<boolean> {
    const { part, hash, states } = await this.replicaStates(account, container, object);
    const current = this.newest(states);
    if (current && compareTimestamps(current.state.timestamp, timestamp) >= 0) throw new StorageError('conflict', 'a newer version exists');
    const existed = current?.state.kind === 'data' && !isExpired(this.infoOf(object, current.state).headers, this.clock.now());
    const { disks, total } = this.writeTargets(part);
    const ts = normalizeTimestamp(timestamp);
    const done = await Promise.allSettled(disks.map((d) => d.writeTombstone(part, hash, { name: object, account, container, timestamp: ts })));
    const ok = disks.filter((_, i) => done[i]!.status === 'fulfilled');
    if (ok.length < quorum(total)) throw new StorageError('insufficient_storage', 'too few replicas took the delete');
    if (this.containerStat(account, container)) {
      await this.updateContainer_(account, container, ok[0]!, hash, { name: object, createdAt: ts, size: 0, contentType: '', etag: '', deleted: true });
    }
    return existed;
  }

  /** The expirer: deletes objects whose X-Delete-At has passed (and still matches). */
  async expireDue(): Promise<number> {
    const now = this.clock.now();
    const due = this.expiring.prepare('SELECT delete_at, account, container, object FROM expiring WHERE delete_at <= ?').all(Math.floor(now.getTime() / 1000)) as Array<{ delete_at: number; account: string; container: string; object: string }>;
    let n = 0;
    for (const row of due) {
      const { states } = await this.replicaStates(row.account, row.container, row.object);
      const best = this.newest(states);
      if (best?.state.kind === 'data' && Number(this.infoOf(row.object, best.state).headers['x-delete-at']) === row.delete_at) {
        const ts = compareTimestamps(this.nowTs(), best.state.timestamp) > 0 ? this.nowTs() : timestampFromDate(new Date(timestampToDate(best.state.timestamp).getTime() + 1));
        await this.deleteObject(row.account, row.container, row.object, ts).then(
          () => n++,
          () => undefined,
        );
      }
      this.expiring.prepare('DELETE FROM expiring WHERE delete_at = ? AND account = ? AND container = ? AND object = ?').run(row.delete_at, row.account, row.container, row.object);
    }
    return n;
  }
}

/** Builds (first start) or loads the rings under `opts.root` and opens the local cluster. */
export async function createLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const replicas = opts.replicas ?? 1;
  mkdirSync(opts.root, { recursive: true });
  const rings = bootstrapRings({
    root: opts.root,
    replicas,
    devices: opts.devices && opts.devices.length > 0 ? opts.devices : defaultDevices(opts.root, replicas),
    partPower: opts.partPower ?? 10,
  });
  return new LocalCluster(opts.root, rings, opts);
}
