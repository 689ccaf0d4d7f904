import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../../../common/clock.js';
import { BodyMeter, precheckWrite, readSmallBody, SMALL_BODY_BYTES, toStorageError, verifyWrite } from '../ingest.js';
import { cleanHeaders, isExpired, mergePostHeaders, symlinkPath } from '../semantics.js';
import { compareTimestamps, normalizeTimestamp, timestampFromDate, timestampToDate } from '../timestamp.js';
import * as T from '../types.js';
import { DbCache, type ObjectRow } from './db.js';
import { ClusterDatabases, quorum } from './dbservers.js';
import type { AsyncPending, ReplicaWriter, StorageDevice } from './device.js';
import { CorruptObject, isNewerState, keptFiles, StaleWrite, type ObjectDisk, type OnDiskState } from './diskfile.js';
import { bootstrapRings, defaultDevices, Devices, type Rings } from './placement.js';
import type { RemoteOptions } from '../remote/client.js';

export type { AsyncPending } from './device.js';

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
  /** How remote devices (`nubes agent storage` nodes) are reached; defaults: no key, 10 s timeout, 10 s error suppression. */
  remote?: Partial<RemoteOptions>;
  /** Failure injection for durability tests: called with each chunk about to be written to a replica. */
  onReplicaWrite?: (device: StorageDevice, bytesSoFar: number) => void;
}

/** One replica's answer for an object. */
interface ReplicaState {
  device: StorageDevice;
  part: number;
  state: OnDiskState;
}

type DataState = Extract<OnDiskState, { kind: 'data' }>;

/**
 * The StorageCluster over the devices placed by the three rings, local directories and
 * `nubes agent storage` nodes alike: the proxy's fan-out logic (quorum writes, newest-replica
 * reads, handoffs) over the object servers here, the account and container controllers in
 * ClusterDatabases.
 */
export class LocalCluster extends ClusterDatabases implements T.StorageCluster {
  readonly dbs: DbCache;
  private readonly expiring: Database.Database;

  constructor(
    readonly root: string,
    rings: Rings,
    private readonly opts: LocalClusterOptions,
  ) {
    const dbs = new DbCache();
    const remote: RemoteOptions = { key: '', timeoutMs: 10_000, suppressMs: 10_000, ...opts.remote };
    super(rings, new Devices(rings, dbs, remote), opts.clock ?? systemClock);
    this.dbs = dbs;
    // The expirer's queue (Swift keeps it in the hidden .expiring_objects account).
    this.expiring = new Database(join(root, 'expirer.sqlite'));
    this.expiring.pragma('journal_mode = WAL');
    this.expiring.exec('CREATE TABLE IF NOT EXISTS expiring (delete_at INTEGER NOT NULL, account TEXT NOT NULL, container TEXT NOT NULL, object TEXT NOT NULL, PRIMARY KEY (account, container, object, delete_at))');
  }

  /** The object servers on this machine (the auditor's walk). */
  localDisks(): ObjectDisk[] {
    return this.devices.local().map((d) => d.objects);
  }

  close(): void {
    this.dbs.closeAll();
    this.devices.close();
    this.expiring.close();
  }

  /** Reaps at once what Swift's account reaper removes later: every object and container. */
  async deleteAccount(account: string, timestamp: string): Promise<void> {
    for (const container of await this.allContainers(account)) {
      for (;;) {
        const page = (await this.listObjects(account, container, { limit: 1000 })) ?? [];
        if (page.length === 0) break;
        for (const o of page) if ('name' in o) await this.deleteObject(account, container, o.name, timestamp).catch(() => false);
      }
      await this.deleteContainer(account, container, timestamp);
    }
    await this.removeAccountDatabases(account);
  }

  // ---- objects --------------------------------------------------------------------------

  /** States of every reachable replica (primaries, then handoffs when a primary is down). */
  private async replicaStates(account: string, container: string, object: string): Promise<{ part: number; hash: string; states: ReplicaState[] }> {
    const ring = this.rings.object;
    const { part, hash, nodes } = ring.getNodes(account, container, object);
    const devices = nodes.map((n) => this.devices.available(n)).filter((d): d is StorageDevice => d !== undefined);
    if (devices.length < nodes.length) for (const h of ring.getHandoffNodes(part)) {
      const d = this.devices.available(h);
      if (d && !devices.includes(d)) devices.push(d);
    }
    const answers = await Promise.all(
      devices.map(async (device) => {
        try {
          const state = await device.objects.readState(part, hash);
          return state ? { device, part, state } : null;
        } catch (err) {
          // A replica whose files can't be parsed is quarantined; the replicator restores it.
          if (err instanceof CorruptObject) await device.objects.quarantine(part, hash).catch(() => undefined);
          return null;
        }
      }),
    );
    return { part, hash, states: answers.filter((a): a is ReplicaState => a !== null) };
  }

  private newest(states: ReplicaState[]): ReplicaState | undefined {
    let best: ReplicaState | undefined;
    for (const s of states) if (!best || isNewerState(s.state, best.state)) best = s;
    return best;
  }

  private infoOf(object: string, s: DataState): T.ObjectInfo {
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

  private async live(account: string, container: string, object: string): Promise<{ info: T.ObjectInfo; replica: ReplicaState & { state: DataState }; all: ReplicaState[] } | null> {
    const { states } = await this.replicaStates(account, container, object);
    const best = this.newest(states);
    if (!best || best.state.kind !== 'data') return null;
    const info = this.infoOf(object, best.state);
    if (isExpired(info.headers, this.clock.now())) return null;
    return { info, replica: { ...best, state: best.state }, all: states };
  }

  /** Primaries and handoffs in the order writes try them. */
  private writeCandidates(part: number): { candidates: StorageDevice[]; total: number } {
    const ring = this.rings.object;
    const primaries = ring.getPartNodes(part);
    const candidates: StorageDevice[] = [];
    for (const n of [...primaries, ...ring.getHandoffNodes(part)]) {
      const d = this.devices.available(n);
      if (d && !candidates.includes(d)) candidates.push(d);
    }
    return { candidates, total: primaries.length };
  }

  /**
   * Runs `op` on `total` devices: the reachable primaries first; every primary that is down or
   * fails is replaced by the next handoff, as Swift's proxy does.
   */
  private async onTargets<R>(part: number, op: (d: StorageDevice) => Promise<R>): Promise<{ done: Array<{ device: StorageDevice; value: R }>; total: number }> {
    const { candidates, total } = this.writeCandidates(part);
    const done: Array<{ device: StorageDevice; value: R }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < candidates.length) {
        const device = candidates[next++]!;
        try {
          done.push({ device, value: await op(device) });
          return;
        } catch {
          // try the next candidate
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(total, candidates.length) }, worker));
    return { done, total };
  }

  async putObject(account: string, container: string, object: string, body: Readable, meta: T.ObjectWriteMeta): Promise<T.ObjectInfo> {
    const refuse = (err: T.StorageError): never => {
      body.resume();
      throw err;
    };
    if (!(await this.containerStat(account, container))) refuse(new T.StorageError('not_found', 'container not found'));
    try {
      precheckWrite(meta);
    } catch (err) {
      refuse(err as T.StorageError);
    }
    // Last write wins, as each object server decides at commit (StaleWrite): no read before the upload.
    const { part, hash } = this.rings.object.getNodes(account, container, object);
    const { done: opened, total } = await this.onTargets(part, (d) => d.objects.createWriter(part, hash));
    let writers: Array<{ device: StorageDevice; writer: ReplicaWriter }> = opened.map((o) => ({ device: o.device, writer: o.value }));
    const need = quorum(total);
    const abortAll = () => Promise.all(writers.map((w) => w.writer.abort()));
    if (writers.length < need) {
      await abortAll();
      refuse(new T.StorageError('insufficient_storage', `only ${writers.length} of ${total} devices could take the object`));
    }
    const hook = this.opts.onReplicaWrite;
    let received = 0;
    // Back-pressure: the next chunk is taken only once every replica took this one.
    const writeChunk = async (chunk: Buffer): Promise<void> => {
      const before = received;
      received += chunk.length;
      const results = await Promise.allSettled(
        writers.map(async (w) => {
          hook?.(w.device, before);
          await w.writer.write(chunk);
        }),
      );
      const failed = writers.filter((_, i) => results[i]!.status === 'rejected');
      await Promise.all(failed.map((w) => w.writer.abort()));
      writers = writers.filter((w) => !failed.includes(w));
      if (writers.length < need) throw new T.StorageError('insufficient_storage', 'too many replicas failed during the upload');
    };
    let taken: { bytes: number; etag: string };
    try {
      taken = await receiveBody(body, meta, writeChunk);
      verifyWrite(meta, taken.bytes, taken.etag);
    } catch (err) {
      await abortAll();
      throw toStorageError(err);
    }
    const { bytes, etag } = taken;
    const headers = cleanHeaders(meta.headers);
    const dataMeta = { name: object, account, container, timestamp: normalizeTimestamp(meta.timestamp), contentType: meta.contentType, etag, size: bytes, headers };
    const row: ObjectRow = { name: object, createdAt: dataMeta.timestamp, size: bytes, contentType: meta.contentType, etag, deleted: false, symlinkPath: symlinkPath(account, headers) ?? null };
    const intent = await this.saveIntent(account, container, writers.map((w) => w.device), row);
    const committed = await Promise.allSettled(writers.map((w) => w.writer.commit(dataMeta)));
    const ok = writers.filter((_, i) => committed[i]!.status === 'fulfilled');
    if (committed.some((c) => c.status === 'rejected' && c.reason instanceof StaleWrite)) {
      // A replica holds a newer version: that one wins everywhere once replication has run, and
      // the listing already names it.
      await abortAll();
      await this.dropIntent(intent);
      throw new T.StorageError('conflict', 'a newer version exists');
    }
    if (ok.length < need) {
      await abortAll();
      await this.dropIntent(intent);
      throw new T.StorageError('insufficient_storage', 'too few replicas became durable');
    }
    await this.updateListing(account, container, ok.map((w) => w.device), row, intent);
    this.trackExpiry(account, container, object, headers);
    return { name: object, size: bytes, etag, contentType: meta.contentType, timestamp: meta.timestamp, lastModified: timestampToDate(meta.timestamp), headers };
  }

  private trackExpiry(account: string, container: string, object: string, headers: Record<string, string>): void {
    const at = Number(headers['x-delete-at']);
    if (Number.isFinite(at) && headers['x-delete-at'] !== undefined) {
      this.expiring.prepare('INSERT OR IGNORE INTO expiring (delete_at, account, container, object) VALUES (?, ?, ?, ?)').run(Math.floor(at), account, container, object);
    }
  }

  async headObject(account: string, container: string, object: string): Promise<T.ObjectInfo | null> {
    return (await this.live(account, container, object))?.info ?? null;
  }

  async getObject(account: string, container: string, object: string, range?: { start: number; end: number }): Promise<{ info: T.ObjectInfo; body: Readable } | null> {
    const found = await this.live(account, container, object);
    if (!found) return null;
    // A small object was read whole along with its footer: no second open.
    const inline = found.replica.state.inline;
    if (inline) return { info: found.info, body: bytesOf(inline, range) };
    // The newest replica first; if it fails to open, any other holding the same data will do.
    const same = found.all.filter((s) => s !== found.replica && s.state.kind === 'data' && s.state.dataName === found.replica.state.dataName);
    for (const r of [found.replica, ...same]) {
      try {
        return { info: found.info, body: await r.device.objects.openData(r.part, this.rings.object.getNodes(account, container, object).hash, found.replica.state.dataName, found.replica.state.meta.size, range) };
      } catch {
        // next replica
      }
    }
    throw new T.StorageError('insufficient_storage', 'no replica could be read');
  }

  async postObject(account: string, container: string, object: string, meta: T.ObjectMetaUpdate): Promise<T.ObjectInfo | null> {
    const found = await this.live(account, container, object);
    if (!found) return null;
    if (compareTimestamps(found.info.timestamp, meta.timestamp) >= 0) throw new T.StorageError('conflict', 'a newer version exists');
    const post = { timestamp: normalizeTimestamp(meta.timestamp), ...(meta.contentType !== undefined ? { contentType: meta.contentType } : {}), headers: mergePostHeaders({}, meta.headers) };
    const part = found.replica.part;
    const { hash } = this.rings.object.getNodes(account, container, object);
    const holders = found.all.filter((s) => s.state.kind === 'data');
    const done = await Promise.allSettled(holders.map((s) => s.device.objects.putFile(part, hash, `${post.timestamp}.meta`, JSON.stringify(post))));
    if (!done.some((d) => d.status === 'fulfilled')) throw new T.StorageError('insufficient_storage', 'no replica took the metadata');
    if (meta.contentType !== undefined) {
      const ct = meta.contentType;
      await Promise.allSettled(this.containerSet(account, container).replicas.map((r) => r.db.setContentType(r.at, object, ct)));
    }
    const updated = await this.live(account, container, object);
    if (updated) this.trackExpiry(account, container, object, updated.info.headers);
    return updated?.info ?? null;
  }

  async deleteObject(account: string, container: string, object: string, timestamp: string): Promise<boolean> {
    const { part, hash, states } = await this.replicaStates(account, container, object);
    const current = this.newest(states);
    if (current && compareTimestamps(current.state.timestamp, timestamp) >= 0) throw new T.StorageError('conflict', 'a newer version exists');
    const existed = current?.state.kind === 'data' && !isExpired(this.infoOf(object, current.state).headers, this.clock.now());
    const ts = normalizeTimestamp(timestamp);
    const tombstone = JSON.stringify({ name: object, account, container, timestamp: ts });
    const row: ObjectRow = { name: object, createdAt: ts, size: 0, contentType: '', etag: '', deleted: true };
    const listed = (await this.containerStat(account, container)) !== null;
    const intent = listed ? await this.saveIntent(account, container, this.writeCandidates(part).candidates.slice(0, 1), row) : undefined;
    const { done, total } = await this.onTargets(part, (d) => d.objects.putFile(part, hash, `${ts}.ts`, tombstone));
    if (done.length < quorum(total)) {
      await this.dropIntent(intent);
      throw new T.StorageError('insufficient_storage', 'too few replicas took the delete');
    }
    if (listed) await this.updateListing(account, container, done.map((d) => d.device), row, intent);
    return existed;
  }

  protected async writeLanded(pending: AsyncPending): Promise<'yes' | 'no' | 'unknown'> {
    const { account, container, row } = pending;
    const { states } = await this.replicaStates(account, container, row.name);
    const best = this.newest(states);
    if (best) return compareTimestamps(keptFiles(best.state)[0]!.replace(/\.\w+$/, ''), row.createdAt) >= 0 ? 'yes' : 'no';
    const { nodes } = this.rings.object.getNodes(account, container, row.name);
    return nodes.every((n) => this.devices.available(n)) ? 'no' : 'unknown';
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
        const nowTs = this.nowTs();
        const ts = compareTimestamps(nowTs, best.state.timestamp) > 0 ? nowTs : timestampFromDate(new Date(timestampToDate(best.state.timestamp).getTime() + 1));
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

/**
 * Takes the whole body, handing each chunk to `write` in order, and answers its length and MD5.
 * A small body of known length is read with plain stream events: a stream pipeline's
 * per-request bookkeeping (an AbortController, end-of-stream watchers, an error object at
 * the end) cost more main-thread time than storing four kibibytes.
 */
async function receiveBody(body: Readable, meta: T.ObjectWriteMeta, write: (chunk: Buffer) => Promise<void>): Promise<{ bytes: number; etag: string }> {
  if (meta.contentLength !== undefined && meta.contentLength <= SMALL_BODY_BYTES) {
    const chunks = await readSmallBody(body);
    const md5 = createHash('md5');
    let bytes = 0;
    for (const chunk of chunks) {
      bytes += chunk.length;
      md5.update(chunk);
      await write(chunk);
    }
    return { bytes, etag: md5.digest('hex') };
  }
  const meter = new BodyMeter(meta);
  const sink = new Writable({
    write: (chunk: Buffer, _enc, cb) => void write(chunk).then(() => cb(), cb),
  });
  await pipeline(body, meter, sink);
  return { bytes: meter.bytes, etag: meter.digest() };
}

/** `bytes` within `range` (absolute offsets, end exclusive) as one-chunk stream. */
function bytesOf(bytes: Buffer, range?: { start: number; end: number }): Readable {
  const slice = range ? bytes.subarray(range.start, Math.min(range.end, bytes.length)) : bytes;
  return Readable.from(slice.length > 0 ? [slice] : [], { objectMode: false });
}

/** Builds (first start) or loads the rings under `opts.root` and opens the cluster. */
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
