import { sql, type Kysely, type Migration } from 'kysely';
import type { JobStatus } from './types.js';

/** Row shape of nubes_jobs: text timestamps (isoMicro), JSON as text, integers for counters. */
export interface JobsTable {
  id: string;
  queue: string;
  kind: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_after: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  result: string | null;
  dedupe_key: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface JobsDb {
  nubes_jobs: JobsTable;
}

const m0001: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('nubes_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`),
      )
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_after', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('result', 'text')
      .addColumn('dedupe_key', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .execute();
    // The claim query filters on status + queue and orders by run_after.
    await db.schema
      .createIndex('nubes_jobs_runnable_idx')
      .on('nubes_jobs')
      .columns(['status', 'queue', 'run_after'])
      .execute();
    // Dedupe is enforced by the database, not by a read-then-insert race: at most
    // one *queued* job per (queue, kind, dedupe_key). Partial indexes exist on both engines.
    await db.schema
      .createIndex('nubes_jobs_dedupe_idx')
      .on('nubes_jobs')
      .columns(['queue', 'kind', 'dedupe_key'])
      .unique()
      .where(sql.ref('status'), '=', 'queued')
      .where(sql.ref('dedupe_key'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('nubes_jobs').execute();
  },
};

export const jobsMigrations: Record<string, Migration> = { '0001_jobs': m0001 };
