/**
 * Public types of the durable job queue. Kept apart from the implementation so
 * that services can declare handlers without importing the database layer.
 */

/** queued -> running -> succeeded | failed | cancelled; running -> queued on retry or release. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

/**
 * Every payload carries a version `v`: a job enqueued by one release may be run by
 * the next, so handlers branch on `v` (or reject unknown versions with PermanentJobError).
 */
export type JobPayload = { v: number } & Record<string, unknown>;

/** A stored job as the rest of the code sees it (camelCase, JSON decoded). */
export interface JobRecord<P extends JobPayload = JobPayload> {
  id: string;
  queue: string;
  kind: string;
  payload: P;
  status: JobStatus;
  /** Claims so far, including the current one while running. */
  attempts: number;
  maxAttempts: number;
  /** ISO timestamp before which the job is not claimed (scheduling and backoff). */
  runAfter: string;
  /** Worker id of the last claimer; kept after completion as an audit trail. */
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  lastError: string | null;
  result: unknown;
  dedupeKey: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface JobQueueOptions {
  /** How long a claim is valid without a heartbeat; a crashed worker's jobs come back after this. */
  leaseSeconds: number;
  /** Default for enqueue(); a job is failed for good after this many claims. */
  maxAttempts: number;
  /** How often an idle WorkerPool looks for work that was not announced in-process. */
  pollIntervalMs: number;
  /** Identifies this process's claims; defaults to host:pid:random so restarts never reuse one. */
  workerId?: string;
  /** Injected for tests (lease expiry, backoff); all stored timestamps come from it. */
  clock?: () => Date;
}

export interface EnqueueOptions {
  runAfter?: Date;
  maxAttempts?: number;
  /**
   * While a job with the same (queue, kind, dedupeKey) is queued, enqueue returns
   * that job instead of adding another: bursts of "please reconcile X" coalesce.
   */
  dedupeKey?: string;
}

export interface ListFilter {
  queue?: string;
  status?: JobStatus | JobStatus[];
  kind?: string;
  limit?: number;
}

export interface JobContext {
  job: JobRecord;
  /** Aborted when the pool stops, the job is cancelled or its lease is lost; handlers should stop soon after. */
  signal: AbortSignal;
}

/**
 * A service's code for one kind of job. `run` must be idempotent: delivery is
 * at-least-once (a worker may crash after doing the work but before recording it).
 * Throwing retries with backoff; throwing PermanentJobError fails the job at once.
 */
export interface JobHandler<P extends JobPayload = JobPayload> {
  queue: string;
  kind: string;
  run(payload: P, ctx: JobContext): Promise<unknown>;
}

/** Thrown by a handler when retrying cannot help (bad payload, unknown version, deleted resource). */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}
