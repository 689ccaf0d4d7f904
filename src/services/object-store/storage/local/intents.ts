import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AsyncPending } from './device.js';

/**
 * The intent records of one device (see AsyncPending.intent): rows of a small SQLite database,
 * <device>/intents.sqlite, rather than a file each. Saving and dropping one is an insert and a
 * delete on the main thread (tens of microseconds) instead of five file operations through the
 * thread pool on every object write.
 *
 * WAL with synchronous=OFF: once an insert returns, the row is in the operating system's hands,
 * so it outlives the process being killed at any point, which is all an intent guards against.
 * A power loss may drop recent rows, as it could the un-fsync'ed intent files used before.
 */
export class IntentLog {
  private db: Database.Database | null = null;
  private statements: { save: Database.Statement; list: Database.Statement; drop: Database.Statement } | null = null;
  private seenAt = 0;

  constructor(private readonly path: string) {}

  save(id: string, pending: AsyncPending): void {
    this.open().save.run(id, JSON.stringify(pending));
  }

  list(limit: number): Array<{ id: string; pending: AsyncPending }> {
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

  /** False when there was no such row. */
  drop(id: string): boolean {
    if (!this.db && !existsSync(this.path)) return false;
    return this.open().drop.run(id).changes > 0;
  }

  close(): void {
    this.db?.close();
    this.db = null;
    this.statements = null;
  }

  private open(): NonNullable<IntentLog['statements']> {
    // A device directory replaced under a running process (a disk swap) gets a new file; looked
    // at no more than once a second.
    const now = Date.now();
    if (this.db && now - this.seenAt >= 1000) {
      if (!existsSync(this.path)) this.close();
      this.seenAt = now;
    }
    if (this.statements) return this.statements;
    const db = new Database(this.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE IF NOT EXISTS intent (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    this.db = db;
    this.seenAt = Date.now();
    this.statements = {
      save: db.prepare('INSERT OR REPLACE INTO intent (id, body) VALUES (?, ?)'),
      list: db.prepare('SELECT id, body FROM intent ORDER BY id LIMIT ?'),
      drop: db.prepare('DELETE FROM intent WHERE id = ?'),
    };
    return this.statements;
  }
}
