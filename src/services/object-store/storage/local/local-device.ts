import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListingQuery } from '../types.js';
import { AccountBroker, ContainerBroker, type DbCache, type RowPage } from './db.js';
import type { ContainerServer, DatabaseServer, DbKind, DbLocation, DbShapes, StorageDevice } from './device.js';
import { ObjectDisk, suffixOf } from './diskfile.js';

/** What the account and container brokers have in common, seen from their servers. */
interface Broker<K extends DbKind> {
  stat(): DbShapes[K]['stat'] | null;
  update(set: Record<string, string>, putTimestamp?: string): void;
  list(query: ListingQuery): Array<DbShapes[K]['listing']>;
  rows(page: RowPage): Array<DbShapes[K]['row']>;
  mergeAll(rows: Array<DbShapes[K]['row']>): boolean[];
  syncPoint(): string;
}

interface BrokerKind<K extends DbKind, B extends Broker<K>> {
  open(cache: DbCache, path: string): B | null;
  create(cache: DbCache, path: string, init: DbShapes[K]['init']): B;
}

/**
 * The account or container server of a local device:
 * <device>/<accounts|containers>/<part>/<suffix>/<hash>/<hash>.db, one SQLite file per replica.
 */
/** Rows waiting for the next group commit of one database. */
interface MergeBatch<K extends DbKind> {
  rows: Array<DbShapes[K]['row']>;
  done: Promise<boolean[]>;
}

class LocalDatabases<K extends DbKind, B extends Broker<K>> implements DatabaseServer<K> {
  private readonly batches = new Map<string, MergeBatch<K>>();
  constructor(
    protected readonly disk: ObjectDisk,
    protected readonly dbs: DbCache,
    private readonly kind: K,
    private readonly brokers: BrokerKind<K, B>,
  ) {}

  path(at: DbLocation): string {
    // concatenated: the parts are a normalized directory, a number and hex digits
    return `${this.disk.root}/${this.kind}/${at.part}/${suffixOf(at.hash)}/${at.hash}/${at.hash}.db`;
  }

  protected open(at: DbLocation): B | null {
    this.disk.check();
    return this.brokers.open(this.dbs, this.path(at));
  }

  async stat(at: DbLocation): Promise<DbShapes[K]['stat'] | null> {
    return this.open(at)?.stat() ?? null;
  }

  async create(at: DbLocation, init: DbShapes[K]['init']): Promise<void> {
    this.disk.check();
    this.brokers.create(this.dbs, this.path(at), init);
  }

  async update(at: DbLocation, set: Record<string, string>, putTimestamp?: string): Promise<boolean> {
    const b = this.open(at);
    b?.update(set, putTimestamp);
    return b !== null;
  }

  async remove(at: DbLocation): Promise<void> {
    this.disk.check();
    const path = this.path(at);
    this.dbs.remove(path);
    await rm(join(path, '..'), { recursive: true, force: true });
  }

  async list(at: DbLocation, query: ListingQuery): Promise<Array<DbShapes[K]['listing']> | null> {
    return this.open(at)?.list(query) ?? null;
  }

  async rows(at: DbLocation, page: RowPage): Promise<Array<DbShapes[K]['row']> | null> {
    return this.open(at)?.rows(page) ?? null;
  }

  /**
   * Group commit: rows merged into the same database during one turn of the event loop share
   * one transaction, so concurrent object writes pay one fsync of the listing between them.
   */
  async merge(at: DbLocation, rows: Array<DbShapes[K]['row']>): Promise<number | null> {
    const broker = this.open(at);
    if (!broker) return null;
    const path = this.path(at);
    let batch = this.batches.get(path);
    if (!batch) {
      const queued: Array<DbShapes[K]['row']> = [];
      const done = new Promise<boolean[]>((resolve, reject) =>
        setImmediate(() => {
          this.batches.delete(path);
          try {
            resolve(broker.mergeAll(queued));
          } catch (err) {
            reject(err);
          }
        }),
      );
      batch = { rows: queued, done };
      this.batches.set(path, batch);
    }
    const first = batch.rows.length;
    batch.rows.push(...rows);
    const changed = await batch.done;
    return changed.slice(first, first + rows.length).filter(Boolean).length;
  }

  async syncPoint(at: DbLocation): Promise<string | null> {
    return this.open(at)?.syncPoint() ?? null;
  }

  async held(): Promise<DbLocation[]> {
    this.disk.check();
    const base = join(this.disk.root, this.kind);
    const out: DbLocation[] = [];
    for (const part of await readdir(base).catch(() => [] as string[])) {
      if (!/^\d+$/.test(part)) continue;
      for (const suffix of await readdir(join(base, part)).catch(() => [] as string[])) {
        for (const hash of await readdir(join(base, part, suffix)).catch(() => [] as string[])) {
          if (/^[0-9a-f]{32}$/.test(hash)) out.push({ part: Number(part), hash });
        }
      }
    }
    return out;
  }
}

class LocalContainers extends LocalDatabases<'containers', ContainerBroker> implements ContainerServer {
  async setContentType(at: DbLocation, name: string, contentType: string): Promise<void> {
    this.open(at)?.setContentType(name, contentType);
  }
}

/** A device directory on this machine: its object server and its account and container servers. */
export class LocalDevice implements StorageDevice {
  readonly objects: ObjectDisk;
  readonly containers: LocalContainers;
  readonly accounts: LocalDatabases<'accounts', AccountBroker>;

  constructor(id: number, root: string, dbs: DbCache) {
    this.objects = new ObjectDisk(id, root);
    this.containers = new LocalContainers(this.objects, dbs, 'containers', ContainerBroker);
    this.accounts = new LocalDatabases(this.objects, dbs, 'accounts', AccountBroker);
  }

  get id(): number {
    return this.objects.id;
  }

  get root(): string {
    return this.objects.root;
  }

  get label(): string {
    return this.objects.root;
  }

  /** Releases the device's open handles (its intent log). */
  close(): void {
    this.objects.close();
  }

  usable(): boolean {
    try {
      this.objects.check();
      return true;
    } catch {
      return false;
    }
  }
}
