import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AsyncPending } from './device.js';

type Op = { kind: 'save'; id: string; body: string } | { kind: 'drop'; id: string };

/**
 * The intent records of one device (see AsyncPending.intent): rows of a small SQLite database,
 * <device>/intents.sqlite, rather than a file each.
 *
 * Saves and drops made during one turn of the event loop share one transaction (each alone
 * costs a WAL append and its locking, which under load took longer than the row itself):
 * a save resolves once its transaction has committed, a drop is only queued. Anything that
 * reads the rows applies the queue first, so a dropped intent is never seen again here.
 *
 * WAL with synchronous=OFF: once a transaction returns, the rows are in the operating system's
 * hands, so they outlive the process being killed at any point, which is all an intent guards
 * against. A power loss may drop recent rows, as it could the un-fsync'ed intent files used before.
 */
export class IntentLog {
  private db: Database.Database | null = null;
  private statements: { save: Database.Statement; list: Database.Statement; drop: Database.Statement; apply: (ops: Op[]) => void } | null = null;
  private seenAt = 0;
  private queue: Op[] = [];
  private flushed: Promise<void> | null = null;

  constructor(private readonly path: string) {}

  /** Resolves once the row is committed. */
  save(id: string, pending: AsyncPending): Promise<void> {
    this.queue.push({ kind: 'save', id, body: JSON.stringify(pending) });
    return this.scheduleFlush();
  }

  /** Queued: applied with the next batch, or before the rows are next read. */
  drop(id: string): void {
    this.queue.push({ kind: 'drop', id });
    void this.scheduleFlush().catch(() => undefined);
  }

  list(limit: number): Array<{ id: string; pending: AsyncPending }> {
    this.flushNow();
    if (limit <= 0 || (!this.db && !existsSync(this.path))) return [];
    const rows = this.open().list.all(limit) as Array<{ id: string; body: string }>;
    const out: Array<{ id: string; pending: AsyncPending }> = [];
    for (const r of rows) {
      try {
        out.push({ id: r.id, pending: JSON.parse(r.body) as AsyncPending });
      } catch {
        // an unreadable row cannot be acted on; dropAsyncPending never sees it either
      }
    }
    return out;
  }

  close(): void {
    try {
      this.flushNow();
    } finally {
      this.db?.close();
      this.db = null;
      this.statements = null;
    }
  }

  private scheduleFlush(): Promise<void> {
    this.flushed ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        try {
          this.flushNow();
          resolve();
        } catch (err) {
          reject(err);
        }
      }),
    );
    return this.flushed;
  }

  /** Applies every queued save and drop in one transaction. */
  private flushNow(): void {
    this.flushed = null;
    if (this.queue.length === 0) return;
    const ops = this.queue;
    this.queue = [];
    // Drops alone need no database: a device that never saved an intent has none to drop.
    if (!this.db && !existsSync(this.path) && ops.every((o) => o.kind === 'drop')) return;
    this.open().apply(ops);
  }

  private open(): NonNullable<IntentLog['statements']> {
    // A device directory replaced under a running process (a disk swap) gets a new file; looked
    // at no more than once a second.
    const now = Date.now();
    if (this.db && now - this.seenAt >= 1000) {
      if (!existsSync(this.path)) {
        this.db.close();
        this.db = null;
        this.statements = null;
      }
      this.seenAt = now;
    }
    if (this.statements) return this.statements;
    const db = new Database(this.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE IF NOT EXISTS intent (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    this.db = db;
    this.seenAt = Date.now();
    const save = db.prepare('INSERT OR REPLACE INTO intent (id, body) VALUES (?, ?)');
    const drop = db.prepare('DELETE FROM intent WHERE id = ?');
    const apply = db.transaction((ops: Op[]) => {
      for (const op of ops) {
        if (op.kind === 'save') save.run(op.id, op.body);
        else drop.run(op.id);
      }
    });
    this.statements = { save, list: db.prepare('SELECT id, body FROM intent ORDER BY id LIMIT ?'), drop, apply };
    return this.statements;
  }
}
