import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/index.js';
import { isoMicro } from '../db/time.js';
import { jobsMigrations, type JobsDb, type JobsTable } from './schema.js';
import type {
  EnqueueOptions,
  JobPayload,
  JobQueueOptions,
  JobRecord,
  JobStatus,
  ListFilter,
} from './types.js';

/** Long stack traces are not useful in a row and would bloat it; the head says what went wrong. */
const MAX_ERROR_CHARS = 4000;

type Row = Selectable<JobsTable>;
type Eb = ExpressionBuilder<JobsDb, 'nubes_jobs'>;

/**
 * The durable job queue: every long operation is a row in nubes_jobs, claimed
 * under a time-limited lease. Delivery is at-least-once; see docs/jobs.md.
 *
 * All state changes are single SQL statements guarded by the expected status
 * (and lease owner), so they are atomic on both engines without explicit
 * transactions — which matters on SQLite, where a deferred read-then-write
 * transaction across connections can fail with SQLITE_BUSY instead of waiting.
 */
export class JobQueue {
  readonly workerId: string;
  readonly options: Readonly<Required<Omit<JobQueueOptions, 'clock'>>>;
  private readonly db: Kysely<JobsDb>;
  private readonly clock: () => Date;
  private readonly enqueueListeners = new Set<(queue: string) => void>();

  constructor(
    private readonly database: Database,
    opts: JobQueueOptions,
  ) {
    if (!(opts.leaseSeconds > 0)) throw new RangeError('leaseSeconds must be positive');
    if (!Number.isInteger(opts.maxAttempts) || opts.maxAttempts < 1) {
      throw new RangeError('maxAttempts must be an integer >= 1');
    }
    if (!(opts.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be positive');
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.options = {
      leaseSeconds: opts.leaseSeconds,
      maxAttempts: opts.maxAttempts,
      pollIntervalMs: opts.pollIntervalMs,
      workerId: this.workerId,
    };
    this.clock = opts.clock ?? (() => new Date());
    this.db = database.typed<JobsDb>();
  }

  get engine(): Database['engine'] {
    return this.database.engine;
  }

  now(): Date {
    return this.clock();
  }

  async migrate(): Promise<void> {
    await this.database.migrate('jobs', jobsMigrations);
  }

  /**
   * Called after a job that is runnable now has been stored, so an in-process
   * WorkerPool can claim it at once instead of waiting for its next poll.
   */
  onEnqueue(listener: (queue: string) => void): () => void {
    this.enqueueListeners.add(listener);
    return () => this.enqueueListeners.delete(listener);
  }

  async enqueue<P extends JobPayload>(
    queue: string,
    kind: string,
    payload: P,
    opts: EnqueueOptions = {},
  ): Promise<JobRecord<P>> {
    if (!queue || !kind) throw new TypeError('queue and kind are required');
    if (!Number.isInteger(payload.v) || payload.v < 1) {
      throw new TypeError('job payload needs an integer version v >= 1');
    }
    const maxAttempts = opts.maxAttempts ?? this.options.maxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be >= 1');
    const now = this.now();
    const runAfter = opts.runAfter ?? now;
    const row: JobsTable = {
      id: randomUUID(),
      queue,
      kind,
      payload: JSON.stringify(payload),
      status: 'queued',
      attempts: 0,
      max_attempts: maxAttempts,
      run_after: isoMicro(runAfter),
      lease_owner: null,
      lease_expires_at: null,
      last_error: null,
      result: null,
      dedupe_key: opts.dedupeKey ?? null,
      created_at: isoMicro(now),
      updated_at: isoMicro(now),
      finished_at: null,
    };

    let stored: Row | undefined;
    if (opts.dedupeKey === undefined) {
      stored = await this.db.insertInto('nubes_jobs').values(row).returningAll().executeTakeFirstOrThrow();
    } else {
      stored = await this.insertDeduped(row, opts.dedupeKey);
    }
    if (stored.id === row.id && runAfter.getTime() <= now.getTime()) this.notify(queue);
    return toRecord(stored) as JobRecord<P>;
  }

  /** Insert unless the partial unique index says an equivalent job is already queued. */
  private async insertDeduped(row: JobsTable, dedupeKey: string): Promise<Row> {
    // The existing job may be claimed between our failed insert and the lookup; then
    // it is no longer "queued" and a fresh insert succeeds. A few rounds always suffice.
    for (let round = 0; round < 5; round++) {
      const inserted = await this.db
        .insertInto('nubes_jobs')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return inserted;
      const existing = await this.db
        .selectFrom('nubes_jobs')
        .selectAll()
        .where('queue', '=', row.queue)
        .where('kind', '=', row.kind)
        .where('dedupe_key', '=', dedupeKey)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (existing) return existing;
    }
    throw new Error(`could not enqueue ${row.queue}/${row.kind} with dedupe key ${dedupeKey}`);
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = await this.db.selectFrom('nubes_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async list(filter: ListFilter = {}): Promise<JobRecord[]> {
    const statuses = filter.status === undefined ? [] : ([] as JobStatus[]).concat(filter.status);
    const rows = await this.db
      .selectFrom('nubes_jobs')
      .selectAll()
      .$if(filter.queue !== undefined, (qb) => qb.where('queue', '=', filter.queue ?? ''))
      .$if(filter.kind !== undefined, (qb) => qb.where('kind', '=', filter.kind ?? ''))
      .$if(statuses.length > 0, (qb) => qb.where('status', 'in', statuses))
      .orderBy('created_at')
      .orderBy('id')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Cancels a queued or running job. A running handler notices at its next
   * heartbeat (its signal is aborted) and its late complete()/fail() is ignored.
   * Returns the job as it now is (unchanged if it had already finished), or null if unknown.
   */
  async cancel(id: string): Promise<JobRecord | null> {
    const now = isoMicro(this.now());
    const row = await this.db
      .updateTable('nubes_jobs')
      .set({ status: 'cancelled', lease_expires_at: null, updated_at: now, finished_at: now })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : this.get(id);
  }

  /**
   * Claims the oldest runnable job of the given queues for this worker, or null.
   * Runnable: queued and due, or running with an expired lease (its worker crashed
   * or hung) and attempts left. Claiming counts as an attempt, so a job that keeps
   * killing its worker ends up failed instead of looping forever.
   *
   * One statement on both engines: UPDATE ... WHERE id = (SELECT ... LIMIT 1).
   * PostgreSQL: the sub-select takes FOR UPDATE SKIP LOCKED, so concurrent claimers
   * skip each other's rows instead of queueing behind them. SQLite: a writing
   * statement holds the database's single write lock from start to end, so the
   * select and the update cannot interleave with another claimer; the outer WHERE
   * re-checks runnability anyway.
   */
  async claim(queues: string[]): Promise<JobRecord | null> {
    if (queues.length === 0) return null;
    const now = this.now();
    const nowIso = isoMicro(now);
    const leaseUntil = isoMicro(new Date(now.getTime() + this.options.leaseSeconds * 1000));
    const candidate = this.db
      .selectFrom('nubes_jobs')
      .select('id')
      .where('queue', 'in', queues)
      .where((eb) => runnable(eb, nowIso))
      .orderBy('run_after')
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .$if(this.engine === 'postgres', (qb) => qb.forUpdate().skipLocked());
    const row = await this.db
      .updateTable('nubes_jobs')
      .set((eb) => ({
        status: 'running',
        attempts: eb('attempts', '+', 1),
        lease_owner: this.workerId,
        lease_expires_at: leaseUntil,
        updated_at: nowIso,
      }))
      .where('id', '=', candidate)
      .where((eb) => runnable(eb, nowIso))
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Records success. Null if this worker no longer holds the job (lease lost or cancelled). */
  async complete(id: string, result: unknown): Promise<JobRecord | null> {
    const now = isoMicro(this.now());
    const row = await this.db
      .updateTable('nubes_jobs')
      .set({
        status: 'succeeded',
        result: JSON.stringify(result ?? null),
        lease_expires_at: null,
        updated_at: now,
        finished_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', this.workerId)
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /**
   * Records a failed attempt. With retryAfterMs (and attempts left) the job goes
   * back to queued, due after the delay; with null, or when attempts are used up,
   * it is failed for good. Null if this worker no longer holds the job.
   */
  async fail(id: string, error: string, retryAfterMs: number | null): Promise<JobRecord | null> {
    const now = this.now();
    const nowIso = isoMicro(now);
    const lastError = error.slice(0, MAX_ERROR_CHARS);
    // Two mutually exclusive guarded updates instead of read-decide-write: each is atomic.
    const failed = await this.db
      .updateTable('nubes_jobs')
      .set({ status: 'failed', last_error: lastError, lease_expires_at: null, updated_at: nowIso, finished_at: nowIso })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', this.workerId)
      .$if(retryAfterMs !== null, (qb) => qb.where((eb) => eb('attempts', '>=', eb.ref('max_attempts'))))
      .returningAll()
      .executeTakeFirst();
    if (failed) return toRecord(failed);
    if (retryAfterMs === null) return null;
    const runAfter = isoMicro(new Date(now.getTime() + Math.max(0, retryAfterMs)));
    const row = await this.requeue(id, { last_error: lastError, run_after: runAfter, updated_at: nowIso }, true);
    return row ? toRecord(row) : null;
  }

  /**
   * Gives a running job back without spending an attempt (graceful shutdown:
   * the handler was interrupted by us, not by a fault of the job).
   */
  async release(id: string): Promise<JobRecord | null> {
    const nowIso = isoMicro(this.now());
    const row = await this.requeue(id, { run_after: nowIso, updated_at: nowIso }, false);
    return row ? toRecord(row) : null;
  }

  /** Extends this worker's lease. False means the job is no longer ours: stop working on it. */
  async heartbeat(id: string): Promise<boolean> {
    const now = this.now();
    const result = await this.db
      .updateTable('nubes_jobs')
      .set({
        lease_expires_at: isoMicro(new Date(now.getTime() + this.options.leaseSeconds * 1000)),
        updated_at: isoMicro(now),
      })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', this.workerId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Crash recovery, run when a WorkerPool starts and then periodically.
   * - Expired leases whose attempts are used up are failed (worker lost each time).
   * - With `exclusive` (embedded mode: this process is the only worker on the
   *   database), every running job was orphaned by our previous incarnation, so its
   *   lease is expired now rather than making the restart wait for it.
   * Jobs with attempts left need nothing: claim() treats an expired lease as runnable.
   */
  async recover(opts: { exclusive?: boolean } = {}): Promise<{ released: number; failed: number }> {
    const nowIso = isoMicro(this.now());
    let released = 0;
    if (opts.exclusive) {
      const r = await this.db
        .updateTable('nubes_jobs')
        .set({ lease_expires_at: nowIso, updated_at: nowIso })
        .where('status', '=', 'running')
        .where('lease_expires_at', '>', nowIso)
        .executeTakeFirst();
      released = Number(r.numUpdatedRows);
    }
    const f = await this.db
      .updateTable('nubes_jobs')
      .set({
        status: 'failed',
        last_error: 'lease expired with no attempts left: the worker running it was lost',
        lease_expires_at: null,
        updated_at: nowIso,
        finished_at: nowIso,
      })
      .where('status', '=', 'running')
      .where('lease_expires_at', '<=', nowIso)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .executeTakeFirst();
    return { released, failed: Number(f.numUpdatedRows) };
  }

  /**
   * running -> queued for this worker's job. If another job with the same dedupe
   * key was queued meanwhile, the unique index refuses; then this one is requeued
   * without its key (both run: handlers are idempotent, and no work is dropped).
   */
  private async requeue(
    id: string,
    patch: Pick<JobsTable, 'run_after' | 'updated_at'> & { last_error?: string },
    spendAttempt: boolean,
  ): Promise<Row | undefined> {
    const attempt = (keepKey: boolean) =>
      this.db
        .updateTable('nubes_jobs')
        .set((eb) => ({
          ...patch,
          status: 'queued',
          lease_expires_at: null,
          ...(spendAttempt ? {} : { attempts: eb('attempts', '-', 1) }),
          ...(keepKey ? {} : { dedupe_key: null }),
        }))
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('lease_owner', '=', this.workerId)
        .returningAll()
        .executeTakeFirst();
    try {
      return await attempt(true);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return attempt(false);
    }
  }

  private notify(queue: string): void {
    for (const listener of this.enqueueListeners) {
      try {
        listener(queue);
      } catch {
        // A listener is a wake-up hint; the poll covers for one that misbehaves.
      }
    }
  }
}

function runnable(eb: Eb, nowIso: string) {
  return eb.or([
    eb.and([eb('status', '=', 'queued'), eb('run_after', '<=', nowIso)]),
    eb.and([
      eb('status', '=', 'running'),
      eb('lease_expires_at', '<=', nowIso),
      eb('attempts', '<', eb.ref('max_attempts')),
    ]),
  ]);
}

function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = (err as { code: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

function toRecord(row: Row): JobRecord {
  return {
    id: row.id,
    queue: row.queue,
    kind: row.kind,
    payload: JSON.parse(row.payload) as JobPayload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    lastError: row.last_error,
    result: parseJson(row.result),
    dedupeKey: row.dedupe_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
