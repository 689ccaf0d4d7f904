import { exponentialBackoff, type Backoff } from './backoff.js';
import type { JobQueue } from './queue.js';
import { PermanentJobError, type JobHandler, type JobRecord } from './types.js';

export interface WorkerPoolOptions {
  /** Handlers running at once in this process. */
  concurrency: number;
  /** How long stop() waits for aborted handlers to finish. Default 10 s. */
  graceMs?: number;
  /** Delay before retrying after attempt n failed. Default: exponential from 1 s, capped at 5 min. */
  backoff?: Backoff;
  /**
   * Embedded mode: this process is the only worker on the database, so jobs
   * found running at start were orphaned by a crash and are resumed at once
   * instead of after their lease runs out. Never set it when several processes
   * share a PostgreSQL database.
   */
  exclusive?: boolean;
  /** Errors with no job row to land in (database down, a periodic task threw). */
  onError?: (err: unknown, context: string) => void;
}

export interface WorkerPoolStatus {
  /** Handlers executing now. */
  running: number;
  /** Attempts finished by this pool, whatever the outcome. */
  processed: number;
  /** Attempts that ended in success. */
  succeeded: number;
  /** Attempts that failed (retried later, or failed for good). */
  failed: number;
}

export type PeriodicTask = (signal: AbortSignal) => Promise<void> | void;

interface Periodic {
  name: string;
  intervalMs: number;
  fn: PeriodicTask;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  controller: AbortController | null;
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

type State = 'idle' | 'running' | 'stopping' | 'stopped';

const handlerKey = (queue: string, kind: string): string => `${queue}\u0000${kind}`;

function describeError(err: unknown): string {
  if (err instanceof Error) return err.name === 'Error' ? err.message : `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Runs the handlers of one process: claims jobs from the queues its handlers
 * serve, up to `concurrency` at a time, keeps their leases alive with heartbeats
 * and records the outcome. Also owns the process's periodic tasks so that one
 * stop() quiesces all background work.
 */
export class WorkerPool {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly queueNames: string[];
  private readonly concurrency: number;
  private readonly graceMs: number;
  private readonly backoff: Backoff;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly periodic = new Map<string, Periodic>();
  private readonly counters = { processed: 0, succeeded: 0, failed: 0 };
  private state: State = 'idle';
  private startup: Promise<void> | null = null;
  private loopDone: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private wakeRequested = false;
  private endNap: (() => void) | null = null;

  constructor(
    private readonly queue: JobQueue,
    handlers: JobHandler[],
    private readonly opts: WorkerPoolOptions,
  ) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new RangeError('concurrency must be an integer >= 1');
    }
    for (const h of handlers) {
      const key = handlerKey(h.queue, h.kind);
      if (this.handlers.has(key)) throw new Error(`two handlers for ${h.queue}/${h.kind}`);
      this.handlers.set(key, h);
    }
    this.queueNames = [...new Set(handlers.map((h) => h.queue))];
    this.concurrency = opts.concurrency;
    this.graceMs = opts.graceMs ?? 10_000;
    this.backoff = opts.backoff ?? exponentialBackoff();
    this.onError = opts.onError ?? ((err, context) => console.error(`[jobs] ${context}:`, err));
    // Exhausted jobs of crashed workers are failed on a lease-sized cadence, on every
    // process: the statement is idempotent, so running it everywhere is harmless.
    this.schedulePeriodic('jobs.recover', queue.options.leaseSeconds * 1000, async () => {
      await queue.recover();
    });
  }

  /**
   * Recovers orphaned jobs, then starts claiming. Resolves once the loop runs;
   * errors during recovery are reported through onError, not thrown.
   */
  start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker pool already ${this.state}`);
    this.state = 'running';
    this.unsubscribe = this.queue.onEnqueue((name) => {
      if (this.queueNames.includes(name)) this.wake();
    });
    for (const task of this.periodic.values()) this.arm(task);
    this.startup = (async () => {
      try {
        await this.queue.recover({ exclusive: this.opts.exclusive === true });
      } catch (err) {
        this.onError(err, 'recover');
      }
      if (this.state === 'running') this.loopDone = this.loop();
    })();
    return this.startup;
  }

  /**
   * Aborts every handler's signal and periodic task, stops claiming, and waits up
   * to graceMs for them to settle. A handler that ends by throwing after the abort
   * has its job released (no attempt spent); one that ignores the abort keeps
   * running past the grace and its lease simply expires for another worker.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.state = 'stopping';
    this.unsubscribe?.();
    this.wake();
    for (const task of this.periodic.values()) {
      if (task.timer) clearTimeout(task.timer);
      task.timer = null;
      task.controller?.abort(new Error('worker pool stopping'));
    }
    for (const job of this.inFlight.values()) job.controller.abort(new Error('worker pool stopping'));
    this.stopping = (async () => {
      const settle = (async () => {
        await this.startup;
        await this.loopDone;
        const pending = [...this.inFlight.values()].map((j) => j.done);
        for (const task of this.periodic.values()) if (task.running) pending.push(task.running);
        await Promise.allSettled(pending);
      })();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.graceMs);
      });
      await Promise.race([settle, grace]);
      clearTimeout(timer);
      this.state = 'stopped';
    })();
    return this.stopping;
  }

  /** Claim now rather than at the next poll (called on in-process enqueue and when a slot frees up). */
  wake(): void {
    this.wakeRequested = true;
    this.endNap?.();
  }

  status(): WorkerPoolStatus {
    return { running: this.inFlight.size, ...this.counters };
  }

  /**
   * Runs `fn` every intervalMs while the pool runs (first run one interval after
   * start), never overlapping itself; errors go to onError. Runs in every process:
   * for work that must happen once per cluster, let `fn` enqueue a job with a
   * dedupeKey. Returns a function that unschedules it.
   */
  schedulePeriodic(name: string, intervalMs: number, fn: PeriodicTask): () => void {
    if (this.periodic.has(name)) throw new Error(`periodic task ${name} already scheduled`);
    if (!(intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    const task: Periodic = { name, intervalMs, fn, timer: null, running: null, controller: null };
    this.periodic.set(name, task);
    if (this.state === 'running') this.arm(task);
    return () => {
      if (task.timer) clearTimeout(task.timer);
      task.timer = null;
      task.controller?.abort(new Error('periodic task unscheduled'));
      this.periodic.delete(name);
    };
  }

  private arm(task: Periodic): void {
    // A timeout re-armed after each run (not setInterval) is what prevents overlap.
    task.timer = setTimeout(() => {
      task.timer = null;
      const controller = new AbortController();
      task.controller = controller;
      task.running = (async () => {
        try {
          await task.fn(controller.signal);
        } catch (err) {
          this.onError(err, `periodic task ${task.name}`);
        }
      })().finally(() => {
        task.running = null;
        task.controller = null;
        if (this.state === 'running' && this.periodic.get(task.name) === task) this.arm(task);
      });
    }, task.intervalMs);
  }

  private async loop(): Promise<void> {
    while (this.state === 'running') {
      this.wakeRequested = false;
      await this.fill();
      if (this.state !== 'running') break;
      await this.nap();
    }
  }

  /** Claims until the pool is full or there is nothing runnable. */
  private async fill(): Promise<void> {
    while (this.state === 'running' && this.inFlight.size < this.concurrency) {
      let job: JobRecord | null;
      try {
        job = await this.queue.claim(this.queueNames);
      } catch (err) {
        this.onError(err, 'claim');
        return;
      }
      if (!job) return;
      if (this.state !== 'running') {
        // stop() came while we were claiming: hand it straight back.
        await this.record(() => this.queue.release(job.id), job);
        return;
      }
      this.launch(job);
    }
  }

  private nap(): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), this.queue.options.pollIntervalMs);
      const done = (): void => {
        clearTimeout(timer);
        this.endNap = null;
        resolve();
      };
      this.endNap = done;
    });
  }

  private launch(job: JobRecord): void {
    const controller = new AbortController();
    const done = this.execute(job, controller).finally(() => {
      this.inFlight.delete(job.id);
      if (this.state === 'running') this.wake();
    });
    this.inFlight.set(job.id, { controller, done });
  }

  private async execute(job: JobRecord, controller: AbortController): Promise<void> {
    const handler = this.handlers.get(handlerKey(job.queue, job.kind));
    if (!handler) {
      const reason = `no handler for job kind '${job.kind}' on queue '${job.queue}' in this worker`;
      await this.record(() => this.queue.fail(job.id, reason, null), job);
      this.counters.processed++;
      this.counters.failed++;
      return;
    }
    // Three beats per lease: one slow or lost heartbeat does not cost the lease.
    const beatMs = Math.max(10, (this.queue.options.leaseSeconds * 1000) / 3);
    const beat = setInterval(() => void this.heartbeat(job, controller), beatMs);
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await handler.run(job.payload, { job, signal: controller.signal }) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      clearInterval(beat);
    }

    if (!outcome.ok && controller.signal.aborted && this.state !== 'running') {
      // Interrupted by our own shutdown: not the job's fault, so no attempt is spent.
      await this.record(() => this.queue.release(job.id), job);
      return;
    }
    this.counters.processed++;
    if (outcome.ok) {
      const stored = await this.record(() => this.queue.complete(job.id, outcome.value), job);
      if (stored) this.counters.succeeded++;
      return;
    }
    this.counters.failed++;
    const retryAfter = outcome.error instanceof PermanentJobError ? null : this.backoff(job.attempts);
    await this.record(() => this.queue.fail(job.id, describeError(outcome.error), retryAfter), job);
  }

  private async heartbeat(job: JobRecord, controller: AbortController): Promise<void> {
    try {
      const held = await this.queue.heartbeat(job.id);
      if (!held) controller.abort(new Error(`job ${job.id} was cancelled or its lease was taken over`));
    } catch (err) {
      // Keep running: the next beat may succeed before the lease runs out.
      this.onError(err, `heartbeat ${job.queue}/${job.kind} ${job.id}`);
    }
  }

  /** A failed bookkeeping write is reported, not thrown: the lease expiry retries the job. */
  private async record<T>(write: () => Promise<T>, job: JobRecord): Promise<T | null> {
    try {
      return await write();
    } catch (err) {
      this.onError(err, `recording outcome of ${job.queue}/${job.kind} ${job.id}`);
      return null;
    }
  }
}
