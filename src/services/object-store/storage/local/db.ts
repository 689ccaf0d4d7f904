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
    // One process owns a device's databases (the server, or the storage agent serving the
    // device), through one handle each: held locks and a private WAL index spare every
    // transaction its file-lock and shared-memory system calls. Set before WAL is entered.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // NORMAL (no fsync per commit, only at checkpoints): a committed listing update survives a
    // crash of the process; a power loss may roll back the newest rows, never object bytes, and
    // the replicators and the updater's intents put them back (docs/object-store.md, Durability).
    db.pragma('synchronous = NORMAL');
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

/** Statements of each open database, compiled once (preparing costs more than running most of them). */
const statements = new WeakMap<Db, Map<string, Database.Statement>>();

function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

/** Brokers of open databases known to be initialised: a stat row, once there, stays until the file goes. */
const initialised = new WeakMap<Db, object>();

/** The broker of an existing database file, or null (no file, or never initialised). */
function openBroker<B extends { stat(): unknown }>(cache: DbCache, path: string, schema: string, make: (db: Db) => B): B | null {
  const db = cache.get(path, false, schema);
  if (!db) return null;
  const known = initialised.get(db) as B | undefined;
  if (known) return known;
  const broker = make(db);
  if (!broker.stat()) return null;
  initialised.set(db, broker);
  return broker;
}

/** Creates the database if needed; the stat row is only inserted once, so creating is idempotent. */
function createBroker<B>(cache: DbCache, path: string, schema: string, insertStat: string, args: string[], make: (db: Db) => B): B {
  const db = cache.get(path, true, schema)!;
  prepared(db, insertStat).run(...args);
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

/** Listing page statements of each open database, by query text: brokers are made per request, handles live on. */
const pageStatements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * One listing page as raw rows (arrays in `columns` order, not objects: a 10,000-row page is
 * built once more as listing entries anyway), from a statement compiled once per database.
 */
function pageRows(db: Db, table: string, columns: string, b: RowBounds, reverse: boolean, limit: number): unknown[][] {
  const { where, args } = boundsWhere(b);
  const sql = `SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY name ${reverse ? 'DESC' : 'ASC'} LIMIT ?`;
  let cache = pageStatements.get(db);
  if (!cache) pageStatements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql).raw(true)));
  return statement.all(...args, limit) as unknown[][];
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
    const r = prepared(this.db, 'SELECT * FROM container_stat WHERE id = 1').get() as ContainerStatRow | undefined;
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
      prepared(this.db, 'UPDATE container_stat SET metadata = ?, put_timestamp = ? WHERE id = 1').run(JSON.stringify(mergeMetadata(s.metadata, set)), ts);
    })();
  }

  /** Applies a PUT/DELETE row if it is newer than what the listing holds; counters follow. */
  merge(row: ObjectRow): boolean {
    return this.mergeAll([row])[0]!;
  }

  /** One transaction for many rows; tells which rows changed anything. */
  mergeAll(rows: ObjectRow[]): boolean[] {
    return this.db.transaction(() => rows.map((r) => this.mergeRow(r)))();
  }

  private mergeRow(row: ObjectRow): boolean {
    const old = prepared(this.db, 'SELECT created_at, size, deleted FROM object WHERE name = ?').get(row.name) as { created_at: string; size: number; deleted: number } | undefined;
    if (old && compareTimestamps(old.created_at, row.createdAt) >= 0) return false;
    const dCount = (row.deleted ? 0 : 1) - (old && !old.deleted ? 1 : 0);
    const dBytes = (row.deleted ? 0 : row.size) - (old && !old.deleted ? old.size : 0);
    prepared(this.db, 'INSERT OR REPLACE INTO object (name, created_at, size, content_type, etag, deleted, symlink_path) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      row.name, row.createdAt, row.deleted ? 0 : row.size, row.contentType, row.etag, row.deleted ? 1 : 0, row.symlinkPath ?? null,
    );
    prepared(this.db, 'UPDATE container_stat SET object_count = object_count + ?, bytes_used = bytes_used + ? WHERE id = 1').run(dCount, dBytes);
    return true;
  }

  /** Cheap fingerprint of every row; replicas with equal ones are taken to be in sync. */
  syncPoint(): string {
    return Object.values(prepared(this.db, 'SELECT count(*), max(created_at), total(size), total(deleted), total(length(name)) FROM object').get() as object).join('|');
  }

  /** Fast-POST changed the content type: the listing shows it without a new data timestamp. */
  setContentType(name: string, contentType: string): void {
    prepared(this.db, 'UPDATE object SET content_type = ? WHERE name = ? AND deleted = 0').run(contentType, name);
  }

  list(query: ListingQuery): ObjectListing[] {
    return runListing(query, (b, reverse, limit) => {
      const rows = pageRows(this.db, 'object', 'name, etag, size, content_type, created_at, symlink_path', b, reverse, limit) as Array<[string, string, number, string, string, string | null]>;
      const out: Array<Extract<ObjectListing, { name: string }>> = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const o: Extract<ObjectListing, { name: string }> = { name: r[0], hash: r[1], bytes: r[2], contentType: r[3], lastModified: listingDate(r[4]) };
        if (r[5]) o.symlinkPath = r[5];
        out[i] = o;
      }
      return out;
    });
  }

  /** Rows including deletions, a page at a time, for the DB replicator. */
  rows(page: RowPage): ObjectRow[] {
    const rows = prepared(this.db, 'SELECT * FROM object WHERE name > ? ORDER BY name LIMIT ?').all(page.marker ?? '', page.limit) as Array<{ name: string; created_at: string; size: number; content_type: string; etag: string; deleted: number; symlink_path: string | null }>;
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
    const r = prepared(this.db, 'SELECT * FROM account_stat WHERE id = 1').get() as { account: string; created_at: string; put_timestamp: string; metadata: string } | undefined;
    if (!r) return null;
    const sums = prepared(this.db, 'SELECT count(*) AS c, coalesce(sum(object_count), 0) AS o, coalesce(sum(bytes_used), 0) AS b FROM container WHERE deleted = 0').get() as { c: number; o: number; b: number };
    return { account: r.account, createdAt: r.created_at, putTimestamp: r.put_timestamp, metadata: JSON.parse(r.metadata) as Record<string, string>, containerCount: sums.c, objectCount: sums.o, bytesUsed: sums.b };
  }

  update(set: Record<string, string>): void {
    this.db.transaction(() => {
      const s = this.stat()!;
      prepared(this.db, 'UPDATE account_stat SET metadata = ? WHERE id = 1').run(JSON.stringify(mergeMetadata(s.metadata, set)));
    })();
  }

  /** Container stats reported by the container server; the newest put timestamp wins for deletes. */
  merge(row: ContainerRow): boolean {
    return this.mergeAll([row])[0]!;
  }

  /** One transaction for many rows; tells which rows changed anything. */
  mergeAll(rows: ContainerRow[]): boolean[] {
    return this.db.transaction(() => rows.map((r) => this.mergeRow(r)))();
  }

  private mergeRow(row: ContainerRow): boolean {
    const old = prepared(this.db, 'SELECT put_timestamp FROM container WHERE name = ?').get(row.name) as { put_timestamp: string } | undefined;
    if (old && compareTimestamps(old.put_timestamp, row.putTimestamp) > 0) return false;
    prepared(this.db, 'INSERT OR REPLACE INTO container (name, put_timestamp, object_count, bytes_used, deleted) VALUES (?, ?, ?, ?, ?)').run(
      row.name, row.putTimestamp, row.objectCount, row.bytesUsed, row.deleted ? 1 : 0,
    );
    return true;
  }

  /** Cheap fingerprint of every row; replicas with equal ones are taken to be in sync. */
  syncPoint(): string {
    return Object.values(prepared(this.db, 'SELECT count(*), max(put_timestamp), total(object_count), total(bytes_used), total(deleted), total(length(name)) FROM container').get() as object).join('|');
  }

  list(query: ListingQuery): ContainerListing[] {
    return runListing(query, (b, reverse, limit) => {
      const rows = pageRows(this.db, 'container', 'name, object_count, bytes_used, put_timestamp', b, reverse, limit) as Array<[string, number, number, string]>;
      return rows.map((r) => ({ name: r[0], count: r[1], bytes: r[2], lastModified: listingDate(r[3]) }));
    });
  }

  /** Rows including deletions, a page at a time, for the DB replicator. */
  rows(page: RowPage): ContainerRow[] {
    const rows = prepared(this.db, 'SELECT * FROM container WHERE name > ? ORDER BY name LIMIT ?').all(page.marker ?? '', page.limit) as Array<{ name: string; put_timestamp: string; object_count: number; bytes_used: number; deleted: number }>;
    return rows.map((r) => ({ name: r.name, putTimestamp: r.put_timestamp, objectCount: r.object_count, bytesUsed: r.bytes_used, deleted: r.deleted === 1 }));
  }
}
