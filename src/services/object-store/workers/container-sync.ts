import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { unpackEmptyMeta } from '../api/meta.js';
import type { LocalCluster } from '../storage/local/cluster.js';
import type { ContainerStat, ObjectRow } from '../storage/local/db.js';
import { databaseOf } from '../storage/local/dbservers.js';
import type { DatabaseServer, DbLocation, StorageDevice } from '../storage/local/device.js';
import { compareTimestamps } from '../storage/timestamp.js';
import type { ObjectInfo } from '../storage/types.js';
import { canonicalPath, isLoopbackHost, swiftQuote, syncSignature, validateSyncTo, type SyncRealms, type SyncTarget } from '../sync-realms.js';

/**
 * The container-sync daemon (Swift's swift-container-sync): for every container with
 * X-Container-Sync-To and X-Container-Sync-Key, sends the rows that changed since the last pass
 * to the remote container — PUT of the object (bytes, content type, metadata, X-Timestamp) for
 * a live row, DELETE for a deleted one — signed with the realm key or carrying the sync key.
 *
 * Container rows here are kept in name order, not by insertion (Swift walks ROWIDs), and a row
 * can arrive late with an old timestamp (a slow upload, an async pending, a replicated row), so
 * "everything after timestamp T" would miss rows. Instead each container's sync points are:
 *  - x_container_sync_point2: the row fingerprint (ContainerBroker.syncPoint) of the last complete
 *    walk; when unchanged, nothing happened and the container is skipped without reading a row;
 *  - x_container_sync_point1: the name marker of a walk cut short by container_time;
 * and a ledger remembers the timestamp last synced per object name, so a walk sends exactly the
 * rows that differ from what the remote was given. Both live in <object-store>/container-sync.sqlite.
 */

export interface ContainerSyncOptions {
  cluster: LocalCluster;
  realms: SyncRealms;
  allowFullUrls: boolean;
  /** Most time one pass spends on one container ([container-sync] container_time). */
  containerTimeMs: number;
  /** Per request: connect and progress ([app:proxy-server] node_timeout). */
  timeoutMs: number;
  /** Default <cluster.root>/container-sync.sqlite. */
  statePath?: string;
  /** Rows read per page (default 200). */
  pageSize?: number;
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

export interface ContainerSyncReport {
  /** Containers with a sync target looked at. */
  containers: number;
  puts: number;
  deletes: number;
  /** Rows the remote already had (same or newer timestamp). */
  skipped: number;
  failures: number;
}

interface PointRow {
  sync_to: string;
  x_container_sync_point1: string;
  x_container_sync_point2: string;
  walk_start: string;
}

const DEFAULT_PAGE = 200;
/** Rows of one container synced at the same time. */
const SYNC_CONCURRENCY = 8;
/** Headers of a stored object that only make sense inside this cluster. */
const LOCAL_ONLY = /^(x-object-sysmeta-|x-nubes-|x-static-large-object$)/;

export class ContainerSyncer {
  private readonly db: Database.Database;

  constructor(private readonly opts: ContainerSyncOptions) {
    this.db = new Database(opts.statePath ?? join(opts.cluster.root, 'container-sync.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // losing the newest ledger entries only costs a HEAD per object on the next walk
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sync_point (account TEXT NOT NULL, container TEXT NOT NULL, device INTEGER NOT NULL,
        sync_to TEXT NOT NULL, x_container_sync_point1 TEXT NOT NULL, x_container_sync_point2 TEXT NOT NULL, walk_start TEXT NOT NULL,
        PRIMARY KEY (account, container, device));
      CREATE TABLE IF NOT EXISTS synced (account TEXT NOT NULL, container TEXT NOT NULL, name TEXT NOT NULL, timestamp TEXT NOT NULL,
        PRIMARY KEY (account, container, name));`);
  }

  close(): void {
    this.db.close();
  }

  /** One pass over every container replica held by the cluster's devices. */
  async runOnce(): Promise<ContainerSyncReport> {
    const report: ContainerSyncReport = { containers: 0, puts: 0, deletes: 0, skipped: 0, failures: 0 };
    for (const device of this.opts.cluster.devices.all()) {
      if (!device.usable()) continue;
      const server = databaseOf(device, 'containers');
      const held = await server.held().catch(() => [] as DbLocation[]);
      for (const at of held) {
        try {
          const stat = await server.stat(at);
          if (stat) await this.syncReplica(device, server, at, stat, report);
        } catch (err) {
          report.failures++;
          this.opts.warn?.({ err, device: device.label, hash: at.hash }, 'container sync: replica skipped');
        }
      }
    }
    return report;
  }

  private async syncReplica(device: StorageDevice, server: DatabaseServer<'containers'>, at: DbLocation, stat: ContainerStat, report: ContainerSyncReport): Promise<void> {
    const { account, container } = stat;
    const syncTo = stat.metadata['sync-to'] ?? '';
    const userKey = stat.metadata['sync-key'] ?? '';
    const point = this.db.prepare('SELECT sync_to, x_container_sync_point1, x_container_sync_point2, walk_start FROM sync_point WHERE account = ? AND container = ? AND device = ?').get(account, container, device.id) as PointRow | undefined;
    if (point && point.sync_to !== syncTo) {
      // a new (or no) target starts from the beginning, as Swift resets the sync points
      this.db.prepare('DELETE FROM sync_point WHERE account = ? AND container = ?').run(account, container);
      this.db.prepare('DELETE FROM synced WHERE account = ? AND container = ?').run(account, container);
    }
    if (!syncTo || !userKey) return;
    report.containers++;
    const checked = validateSyncTo(syncTo, this.opts.realms);
    if ('error' in checked || (!checked.target.realm && !this.opts.allowFullUrls) || !isLoopbackHost(new URL(checked.target.url).hostname)) {
      report.failures++;
      this.opts.warn?.({ account, container, syncTo }, 'container sync: target refused');
      return;
    }
    const target = checked.target;
    const current = point && point.sync_to === syncTo ? point : undefined;
    const fingerprint = (await server.syncPoint(at)) ?? '';
    let marker = current?.x_container_sync_point1 ?? '';
    if (marker === '' && current?.x_container_sync_point2 === fingerprint) return;
    const walkStart = marker === '' ? fingerprint : (current?.walk_start ?? fingerprint);
    const deadline = Date.now() + this.opts.containerTimeMs;
    let failed = false;
    const limit = this.opts.pageSize ?? DEFAULT_PAGE;
    for (;;) {
      const rows = (await server.rows(at, { limit, ...(marker ? { marker } : {}) })) ?? [];
      if (rows.length > 0) {
        const done = await this.syncRows(stat, target, userKey, rows, report);
        failed ||= !done;
        marker = rows[rows.length - 1]!.name;
      }
      if (rows.length < limit) break;
      if (Date.now() > deadline) {
        this.savePoint(account, container, device.id, syncTo, marker, current?.x_container_sync_point2 ?? '', walkStart);
        return;
      }
    }
    // a walk with failures leaves point2 alone: the next pass walks again (the ledger skips what went through)
    this.savePoint(account, container, device.id, syncTo, '', failed ? (current?.x_container_sync_point2 ?? '') : walkStart, walkStart);
  }

  private savePoint(account: string, container: string, device: number, syncTo: string, point1: string, point2: string, walkStart: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO sync_point (account, container, device, sync_to, x_container_sync_point1, x_container_sync_point2, walk_start) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(account, container, device, syncTo, point1, point2, walkStart);
  }

  /** Syncs one page of rows; false when some row could not be synced (retried next pass). */
  private async syncRows(stat: ContainerStat, target: SyncTarget, userKey: string, rows: ObjectRow[], report: ContainerSyncReport): Promise<boolean> {
    const { account, container } = stat;
    const known = new Map(
      (this.db.prepare('SELECT name, timestamp FROM synced WHERE account = ? AND container = ? AND name >= ? AND name <= ?').all(account, container, rows[0]!.name, rows[rows.length - 1]!.name) as Array<{ name: string; timestamp: string }>).map((r) => [r.name, r.timestamp]),
    );
    const record = this.db.prepare('INSERT OR REPLACE INTO synced (account, container, name, timestamp) VALUES (?, ?, ?, ?)');
    let ok = true;
    const todo = rows.filter((row) => {
      const last = known.get(row.name);
      return last === undefined || compareTimestamps(last, row.createdAt) < 0;
    });
    // a few rows in flight at once: each costs a round trip or two to the target
    const next = { i: 0 };
    const lane = async (): Promise<void> => {
      for (let row = todo[next.i++]; row !== undefined; row = todo[next.i++]) {
        if (!(await this.syncOne(account, container, target, userKey, row, report, record))) ok = false;
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, todo.length) }, lane));
    return ok;
  }

  /** Syncs one row and records it in the ledger; false when it must be retried. */
  private async syncOne(account: string, container: string, target: SyncTarget, userKey: string, row: ObjectRow, report: ContainerSyncReport, record: Database.Statement): Promise<boolean> {
    let outcome: 'put' | 'delete' | 'skip' | 'retry';
    try {
      outcome = await this.syncRow(account, container, target, userKey, row);
    } catch (err) {
      this.opts.warn?.({ err, account, container, object: row.name }, 'container sync: row failed');
      outcome = 'retry';
    }
    if (outcome === 'retry') {
      report.failures++;
      return false;
    }
    if (outcome === 'put') report.puts++;
    else if (outcome === 'delete') report.deletes++;
    else report.skipped++;
    record.run(account, container, row.name, row.createdAt);
    return true;
  }

  private async syncRow(account: string, container: string, target: SyncTarget, userKey: string, row: ObjectRow): Promise<'put' | 'delete' | 'skip' | 'retry'> {
    const url = `${target.url}/${swiftQuote(row.name)}`;
    if (row.deleted) {
      const res = await this.send('DELETE', url, this.syncHeaders('DELETE', url, row.createdAt, target, userKey));
      return res.status < 300 || res.status === 404 || res.status === 409 ? 'delete' : 'retry';
    }
    const local = await this.opts.cluster.headObject(account, container, row.name);
    // not readable yet (or any more): a later row will say what became of it
    if (!local || compareTimestamps(local.timestamp, row.createdAt) < 0) return 'retry';
    const remote = await this.send('HEAD', url, this.syncHeaders('HEAD', url, local.timestamp, target, userKey));
    const remoteTs = remote.headers['x-timestamp'];
    if (remote.status < 300 && typeof remoteTs === 'string' && compareTimestamps(remoteTs, local.timestamp) >= 0) return 'skip';
    if (remote.status >= 300 && remote.status !== 404) return 'retry';
    const got = await this.opts.cluster.getObject(account, container, row.name);
    if (!got) return 'retry';
    const headers = { ...objectHeadersOut(got.info), ...this.syncHeaders('PUT', url, got.info.timestamp, target, userKey) };
    const res = await this.send('PUT', url, headers, got.body);
    return res.status < 300 ? 'put' : 'retry';
  }

  /** X-Timestamp and the credentials: a realm signature, or the container's sync key for full URLs. */
  private syncHeaders(method: string, url: string, timestamp: string, target: SyncTarget, userKey: string): Record<string, string> {
    if (target.realm && target.realmKey) {
      const nonce = randomBytes(16).toString('hex');
      const sig = syncSignature(method, canonicalPath(new URL(url).pathname), timestamp, nonce, target.realmKey, userKey);
      return { 'x-timestamp': timestamp, 'x-container-sync-auth': `${target.realm} ${nonce} ${sig}` };
    }
    return { 'x-timestamp': timestamp, 'x-container-sync-key': userKey };
  }

  private send(method: string, url: string, headers: Record<string, string>, body?: Readable): Promise<{ status: number; headers: IncomingMessage['headers'] }> {
    const u = new URL(url);
    // checked when the target was validated; checked again so no code path can leave the machine
    if (!isLoopbackHost(u.hostname)) return Promise.reject(new Error(`refusing non-loopback host ${u.hostname}`));
    const make = u.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = make(u, { method, headers: body ? headers : { ...headers, 'content-length': '0' }, timeout: this.opts.timeoutMs }, (res) => {
        res.resume();
        // 'close' comes after 'end', or alone when the connection dropped mid-answer
        res.on('close', () => (res.complete ? resolve({ status: res.statusCode ?? 0, headers: res.headers }) : reject(new Error(`container sync: ${method} ${u.host}: answer cut short`))));
        res.on('error', () => undefined);
      });
      req.on('timeout', () => req.destroy(new Error(`container sync: ${method} ${u.host} timed out`)));
      req.on('error', (err) => {
        body?.destroy();
        reject(err);
      });
      if (body) {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else req.end();
    });
  }
}

/** What a PUT to the remote carries about the object: size, ETag, type and the user's headers. */
function objectHeadersOut(info: ObjectInfo): Record<string, string> {
  const out: Record<string, string> = {
    'content-length': String(info.size),
    'content-type': info.contentType,
  };
  if (!info.headers['x-static-large-object'] && /^[0-9a-f]{32}$/.test(info.etag)) out.etag = info.etag;
  for (const [k, v] of Object.entries(unpackEmptyMeta(info.headers))) if (!LOCAL_ONLY.test(k)) out[k] = v;
  return out;
}

/** One pass, for tests and `nubes` tooling: opens the state, syncs, closes. */
export async function runContainerSyncOnce(opts: ContainerSyncOptions): Promise<ContainerSyncReport> {
  const syncer = new ContainerSyncer(opts);
  try {
    return await syncer.runOnce();
  } finally {
    syncer.close();
  }
}
