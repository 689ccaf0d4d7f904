import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../db/index.js';

/**
 * A throwaway database for tests: a temp SQLite file, or — for the postgres
 * engine — a fresh schema in the NUBES_TEST_DB database, reached by setting
 * search_path in the connection's startup options so that every pool opened
 * with `open()` sees only this test's tables. cleanup() drops it all, so reruns
 * start clean.
 */
export interface TestDatabase {
  engine: Database['engine'];
  /** A new, independent connection (pool) to the same database: a stand-in for another process. */
  open(): Database;
  cleanup(): Promise<void>;
}

/** The engines to run a suite on: SQLite always, PostgreSQL too when NUBES_TEST_DB is set. */
export function testEngines(): Array<Database['engine']> {
  return process.env.NUBES_TEST_DB ? ['sqlite', 'postgres'] : ['sqlite'];
}

export async function createTestDatabase(engine: Database['engine']): Promise<TestDatabase> {
  const opened: Database[] = [];
  const track = (db: Database): Database => {
    opened.push(db);
    return db;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(opened.splice(0).map((db) => db.close()));
  };

  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'nubes-test-'));
    const file = join(dir, 'nubes.sqlite');
    return {
      engine,
      open: () => track(Database.open(null, file, 1)),
      cleanup: async () => {
        await closeAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  const base = process.env.NUBES_TEST_DB;
  if (!base) throw new Error('NUBES_TEST_DB is not set');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = Database.open(base, '', 1);
  await admin.typed<unknown>().schema.createSchema(schema).execute();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    engine,
    open: () => track(Database.open(url.toString(), '', 4)),
    cleanup: async () => {
      await closeAll();
      await admin.typed<unknown>().schema.dropSchema(schema).cascade().execute();
      await admin.close();
    },
  };
}
