import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { Database } from '../db/index.js';

/**
 * A throwaway database for tests: a temp SQLite file, or — for the postgres
 * engine — a fresh schema in a database private to this test process.
 *
 * Why not just a schema in the NUBES_TEST_DB database: Kysely's Migrator (without
 * migrationTableSchema) decides whether its bookkeeping tables exist by looking
 * through *every* schema, so another process's nubes_migrations_<service> makes
 * it skip creating ours and fail. node --test runs files in parallel processes,
 * so each process gets its own database (created on first use through the
 * NUBES_TEST_DB connection, dropped when the process's tests end; the role
 * needs CREATEDB). Inside it, each TestDatabase is a schema that cleanup()
 * drops; use them one at a time, as beforeEach/afterEach do.
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

  const { url: dbUrl, admin } = await processDatabase();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await admin.schema.createSchema(schema).execute();
  // search_path in the startup options puts every connection of every pool in our schema.
  const url = new URL(dbUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    engine,
    open: () => track(Database.open(url.toString(), '', 4)),
    cleanup: async () => {
      await closeAll();
      await admin.schema.dropSchema(schema).ifExists().cascade().execute();
    },
  };
}

interface ProcessDatabase {
  url: string;
  /** Connected to the private database; runs the schema DDL. */
  admin: Kysely<unknown>;
}

let processDb: Promise<ProcessDatabase> | null = null;

function processDatabase(): Promise<ProcessDatabase> {
  processDb ??= (async () => {
    const base = process.env.NUBES_TEST_DB;
    if (!base) throw new Error('NUBES_TEST_DB is not set');
    const name = `nubes_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const root = Database.open(base, '', 1).typed<unknown>();
    try {
      await sql`create database ${sql.id(name)}`.execute(root);
    } catch (err) {
      await root.destroy();
      throw new Error(`cannot create a test database (the NUBES_TEST_DB role needs CREATEDB): ${String(err)}`);
    }
    const url = new URL(base);
    url.pathname = `/${name}`;
    const admin = Database.open(url.toString(), '', 1).typed<unknown>();
    dropAtExit = async () => {
      await admin.destroy();
      await dropDatabase(root, name);
      await root.destroy();
    };
    return { url: url.toString(), admin };
  })();
  return processDb;
}

let dropAtExit: (() => Promise<void>) | null = null;

// Registered at import (top level) so it runs once, after all of this process's tests.
if (process.env.NUBES_TEST_DB) {
  after(async () => {
    await dropAtExit?.();
  });
}

/**
 * pg's Pool.end() resolves before its sockets are closed, so the server may still
 * count our sessions for a moment. DROP ... WITH (FORCE) would kill them mid-close
 * and surface as uncaught client errors; waiting for them to go is cleaner.
 */
async function dropDatabase(root: Kysely<unknown>, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await sql`drop database if exists ${sql.id(name)}`.execute(root);
      return;
    } catch (err) {
      const inUse = typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '55006';
      if (!inUse || attempt >= 250) throw err;
      await sleep(20);
    }
  }
}
