import Database from 'better-sqlite3';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { runListing, type RowBounds } from '../listing.js';
import { mergeMetadata } from '../semantics.js';
import { compareTimestamps, listingDate } from '../timestamp.js';
import type { ContainerListing, ListingQuery, ObjectListing } from '../types.js';

/**
 * Account and container servers keep one SQLite database per account and per container replica
 * (like Swift's AccountBroker/ContainerBroker): listings come straight from an index in
 * UTF-8 byte order (SQLite's BINARY collation), stats are counters kept in the same transaction
 * as the row change, and rows carry timestamps so replaying an update is harmless.
 */

type Db = Database.Database;

const CONTAINER_SCHEMA = `
CREATE TABLE IF NOT EXISTS container_stat (
  id INTEGER PRIMARY KEY CHECK (id = 1), account TEXT NOT NULL, container TEXT NOT NULL,
  created_at TEXT NOT NULL, put_timestamp TEXT NOT NULL, storage_policy TEXT NOT NULL,
  metadata TEXT NOT NULL, object_count INTEGER NOT NULL, bytes_used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS object (
  name TEXT PRIMARY KEY, created_at TEXT NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL,
  etag TEXT NOT NULL, deleted INTEGER NOT NULL, symlink_path TEXT);
`;

const ACCOUNT_SCHEMA = `
CREATE TABLE IF NOT EXISTS account_stat (
  id INTEGER PRIMARY KEY CHECK (id = 1), account TEXT NOT NULL, created_at TEXT NOT NULL,
  put_timestamp TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS container (
  name TEXT PRIMARY KEY, put_timestamp TEXT NOT NULL, object_count INTEGER NOT NULL,
  bytes_used INTEGER NOT NULL, deleted INTEGER NOT NULL);
`;

/** Open handles, one per database file; SQLite files are cheap to keep open and slow to reopen. */
export class DbCache {
  private readonly open = new Map<string, Db>();

  get(path: string, create: boolean, schema: string): Db | null {
    const cached = this.open.get(path);
    if (cached) return cached;
    if (!create && !existsSync(path)) return null;
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // FULL: a committed listing update survives power loss, like the object it describes.
    db.pragma('synchronous = FULL');
    db.exec(schema);
    this.open.set(path, db);
    if (this.open.size > 256) {
      const [oldPath, oldDb] = this.open.entries().next().value as [string, Db];
      oldDb.close();
      this.open.delete(oldPath);
    }
    return db;
  }

  remove(path: string): void {
    this.open.get(path)?.close();
    this.open.delete(path);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  }

  closeAll(): void {
    for (const db of this.open.values()) db.close();
    this.open.clear();
  }
}

export interface ObjectRow {
  name: string;
  createdAt: string;
  size: number;
  contentType: string;
  etag: string;
  deleted: boolean;
  symlinkPath?: string | null;
}

export interface ContainerStat {
  account: string;
  container: string;
  createdAt: string;
  putTimestamp: string;
  storagePolicy: string;
  metadata: Record<string, string>;
  objectCount: number;
  bytesUsed: number;
}

interface ContainerStatRow {
  account: string;
  container: string;
  created_at: string;
  put_timestamp: string;
  storage_policy: string;
  metadata: string;
  object_count: number;
  bytes_used: number;
}

export interface ContainerInit {
  account: string;
  container: string;
  timestamp: string;
  storagePolicy: string;
}

export interface AccountInit {
  account: string;
  timestamp: string;
}

/** The broker of an existing database file, or null (no file, or never initialised). */
function openBroker<B extends { stat(): unknown }>(cache: DbCache, path: string, schema: string, make: (db: Db) => B): B | null {
  const db = cache.get(path, false, schema);
  if (!db) return null;
  const broker = make(db);
  return broker.stat() ? broker : null;
}

/** Creates the database if needed; the stat row is only inserted once, so creating is idempotent. */
function createBroker<B>(cache: DbCache, path: string, schema: string, insertStat: string, args: string[], make: (db: Db) => B): B {
  const db = cache.get(path, true, schema)!;
  db.prepare(insertStat).run(...args);
  return make(db);
}

/** WHERE clause of a listing page: live rows within the RowBounds runListing asks for. */
function boundsWhere(b: RowBounds): { where: string; args: string[] } {
  const where = ['deleted = 0'];
  const args: string[] = [];
  if (b.gt !== undefined) (where.push('name > ?'), args.push(b.gt));
  if (b.gte !== undefined) (where.push('name >= ?'), args.push(b.gte));
  if (b.lt !== undefined) (where.push('name < ?'), args.push(b.lt));
  return { where: where.join(' AND '), args };
}

/** A page of every row (deletions included) after `marker`, in name order: what replicators exchange. */
export interface RowPage {
  marker?: string;
  limit: number;
}

export class ContainerBroker {
  constructor(private readonly db: Db) {}

  static open(cache: DbCache, path: string): ContainerBroker | null {
    return openBroker(cache, path, CONTAINER_SCHEMA, (db) => new ContainerBroker(db));
  }

  static create(cache: DbCache, path: string, init: ContainerInit): ContainerBroker {
    const insert = `INSERT OR IGNORE INTO container_stat (id, account, container, created_at, put_timestamp, storage_policy, metadata, object_count, bytes_used) VALUES (1, ?, ?, ?, ?, ?, '{}', 0, 0)`;
    return createBroker(cache, path, CONTAINER_SCHEMA, insert, [init.account, init.container, init.timestamp, init.timestamp, init.storagePolicy], (db) => new ContainerBroker(db));
  }

  stat(): ContainerStat | null {
    const r = this.db.prepare('SELECT * FROM container_stat WHERE id = 1').get() as ContainerStatRow | undefined;
    if (!r) return null;
    return {
      account: r.account,
      container: r.container,
      createdAt: r.created_at,
      putTimestamp: r.put_timestamp,
      storagePolicy: r.storage_policy,
      metadata: JSON.parse(r.metadata) as Record<string, string>,
      objectCount: r.object_count,
      bytesUsed: r.bytes_used,
    };
  }

  update(set: Record<string, string>, putTimestamp?: string): void {
    this.db.transaction(() => {
      const s = this.stat()!;
      const ts = putTimestamp && compareTimestamps(putTimestamp, s.putTimestamp) > 0 ? putTimestamp : s.putTimestamp;
      this.db.prepare('UPDATE container_stat SET metadata = ?, put_timestamp = ? WHERE id = 1').run(JSON.stringify(mergeMetadata(s.metadata, set)), ts);
    })();
  }

  /** Applies a PUT/DELETE row if it is newer than what the listing holds; counters follow. */
  merge(row: ObjectRow): boolean {
    return this.db.transaction(() => {
      const old = this.db.prepare('SELECT created_at, size, deleted FROM object WHERE name = ?').get(row.name) as { created_at: string; size: number; deleted: number } | undefined;
      if (old && compareTimestamps(old.created_at, row.createdAt) >= 0) return false;
      const dCount = (row.deleted ? 0 : 1) - (old && !old.deleted ? 1 : 0);
      const dBytes = (row.deleted ? 0 : row.size) - (old && !old.deleted ? old.size : 0);
      this.db
        .prepare('INSERT OR REPLACE INTO object (name, created_at, size, content_type, etag, deleted, symlink_path) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(row.name, row.createdAt, row.deleted ? 0 : row.size, row.contentType, row.etag, row.deleted ? 1 : 0, row.symlinkPath ?? null);
      this.db.prepare('UPDATE container_stat SET object_count = object_count + ?, bytes_used = bytes_used + ? WHERE id = 1').run(dCount, dBytes);
      return true;
    })();
  }

  /** One transaction (one fsync) for many rows; tells which rows changed anything. */
  mergeAll(rows: ObjectRow[]): boolean[] {
    return this.db.transaction(() => rows.map((r) => this.merge(r)))();
  }

  /** Cheap fingerprint of every row; replicas with equal ones are taken to be in sync. */
  syncPoint(): string {
    return Object.values(this.db.prepare('SELECT count(*), max(created_at), total(size), total(deleted), total(length(name)) FROM object').get() as object).join('|');
  }

  /** Fast-POST changed the content type: the listing shows it without a new data timestamp. */
  setContentType(name: string, contentType: string): void {
    this.db.prepare('UPDATE object SET content_type = ? WHERE name = ? AND deleted = 0').run(contentType, name);
  }

  list(query: ListingQuery): ObjectListing[] {
    return runListing(query, (b, reverse, limit) => {
      const { where, args } = boundsWhere(b);
      const rows = this.db
        .prepare(`SELECT name, created_at, size, content_type, etag, symlink_path FROM object WHERE ${where} ORDER BY name ${reverse ? 'DESC' : 'ASC'} LIMIT ?`)
        .all(...args, limit) as Array<{ name: string; created_at: string; size: number; content_type: string; etag: string; symlink_path: string | null }>;
      return rows.map((r) => {
        const o: Extract<ObjectListing, { name: string }> = { name: r.name, hash: r.etag, bytes: r.size, contentType: r.content_type, lastModified: listingDate(r.created_at) };
        if (r.symlink_path) o.symlinkPath = r.symlink_path;
        return o;
      });
    });
  }

  /** Rows including deletions, a page at a time, for the DB replicator. */
  rows(page: RowPage): ObjectRow[] {
    const rows = this.db.prepare('SELECT * FROM object WHERE name > ? ORDER BY name LIMIT ?').all(page.marker ?? '', page.limit) as Array<{ name: string; created_at: string; size: number; content_type: string; etag: string; deleted: number; symlink_path: string | null }>;
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at, size: r.size, contentType: r.content_type, etag: r.etag, deleted: r.deleted === 1, symlinkPath: r.symlink_path }));
  }
}

export interface AccountStat {
  account: string;
  createdAt: string;
  putTimestamp: string;
  metadata: Record<string, string>;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
}

export interface ContainerRow {
  name: string;
  putTimestamp: string;
  objectCount: number;
  bytesUsed: number;
  deleted: boolean;
}

export class AccountBroker {
  constructor(private readonly db: Db) {}

  static open(cache: DbCache, path: string): AccountBroker | null {
    return openBroker(cache, path, ACCOUNT_SCHEMA, (db) => new AccountBroker(db));
  }

  static create(cache: DbCache, path: string, init: AccountInit): AccountBroker {
    const insert = `INSERT OR IGNORE INTO account_stat (id, account, created_at, put_timestamp, metadata) VALUES (1, ?, ?, ?, '{}')`;
    return createBroker(cache, path, ACCOUNT_SCHEMA, insert, [init.account, init.timestamp, init.timestamp], (db) => new AccountBroker(db));
  }

  stat(): AccountStat | null {
    const r = this.db.prepare('SELECT * FROM account_stat WHERE id = 1').get() as { account: string; created_at: string; put_timestamp: string; metadata: string } | undefined;
    if (!r) return null;
    const sums = this.db.prepare('SELECT count(*) AS c, coalesce(sum(object_count), 0) AS o, coalesce(sum(bytes_used), 0) AS b FROM container WHERE deleted = 0').get() as { c: number; o: number; b: number };
    return { account: r.account, createdAt: r.created_at, putTimestamp: r.put_timestamp, metadata: JSON.parse(r.metadata) as Record<string, string>, containerCount: sums.c, objectCount: sums.o, bytesUsed: sums.b };
  }

  update(set: Record<string, string>): void {
    this.db.transaction(() => {
      const s = this.stat()!;
      this.db.prepare('UPDATE account_stat SET metadata = ? WHERE id = 1').run(JSON.stringify(mergeMetadata(s.metadata, set)));
    })();
  }

  /** Container stats reported by the container server; the newest put timestamp wins for deletes. */
  merge(row: ContainerRow): boolean {
    return this.db.transaction(() => {
      const old = this.db.prepare('SELECT put_timestamp FROM container WHERE name = ?').get(row.name) as { put_timestamp: string } | undefined;
      if (old && compareTimestamps(old.put_timestamp, row.putTimestamp) > 0) return false;
      this.db
        .prepare('INSERT OR REPLACE INTO container (name, put_timestamp, object_count, bytes_used, deleted) VALUES (?, ?, ?, ?, ?)')
        .run(row.name, row.putTimestamp, row.objectCount, row.bytesUsed, row.deleted ? 1 : 0);
      return true;
    })();
  }

  /** One transaction (one fsync) for many rows; tells which rows changed anything. */
  mergeAll(rows: ContainerRow[]): boolean[] {
    return this.db.transaction(() => rows.map((r) => this.merge(r)))();
  }

  /** Cheap fingerprint of every row; replicas with equal ones are taken to be in sync. */
  syncPoint(): string {
    return Object.values(this.db.prepare('SELECT count(*), max(put_timestamp), total(object_count), total(bytes_used), total(deleted), total(length(name)) FROM container').get() as object).join('|');
  }

  list(query: ListingQuery): ContainerListing[] {
    return runListing(query, (b, reverse, limit) => {
      const { where, args } = boundsWhere(b);
      const rows = this.db
        .prepare(`SELECT name, put_timestamp, object_count, bytes_used FROM container WHERE ${where} ORDER BY name ${reverse ? 'DESC' : 'ASC'} LIMIT ?`)
        .all(...args, limit) as Array<{ name: string; put_timestamp: string; object_count: number; bytes_used: number }>;
      return rows.map((r) => ({ name: r.name, count: r.object_count, bytes: r.bytes_used, lastModified: listingDate(r.put_timestamp) }));
    });
  }

  /** Rows including deletions, a page at a time, for the DB replicator. */
  rows(page: RowPage): ContainerRow[] {
    const rows = this.db.prepare('SELECT * FROM container WHERE name > ? ORDER BY name LIMIT ?').all(page.marker ?? '', page.limit) as Array<{ name: string; put_timestamp: string; object_count: number; bytes_used: number; deleted: number }>;
    return rows.map((r) => ({ name: r.name, putTimestamp: r.put_timestamp, objectCount: r.object_count, bytesUsed: r.bytes_used, deleted: r.deleted === 1 }));
  }
}
