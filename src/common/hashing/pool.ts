import { getHashes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_WORKER_SOURCE, type HashReply, type HashRequest } from './protocol.js';
import { ParallelHash, type ParallelHashOptions } from './parallel-hash.js';

/** What a session hears from its worker. */
export interface SessionListener {
  reply(message: HashReply): void;
  /** The worker died or the pool closed: the session is over. */
  fail(err: Error): void;
}

/** One worker thread and the sessions it serves. Referenced (keeps the process alive) only while it has sessions. */
export class HashWorker {
  private readonly worker: Worker;
  private readonly sessions = new Map<number, SessionListener>();
  private failure: Error | null = null;

  constructor(private readonly onGone: (worker: HashWorker) => void, private readonly onIdle: () => void) {
    this.worker = new Worker(HASH_WORKER_SOURCE, { eval: true, execArgv: [], stdout: false, stderr: false });
    this.worker.unref();
    this.worker.on('message', (message: HashReply) => this.sessions.get(message.sid)?.reply(message));
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`hash worker exited with code ${code}`)));
  }

  get load(): number {
    return this.sessions.size;
  }

  get alive(): boolean {
    return this.failure === null;
  }

  attach(sid: number, listener: SessionListener, algos: string[]): void {
    if (this.failure) throw this.failure;
    this.sessions.set(sid, listener);
    if (this.sessions.size === 1) this.worker.ref();
    this.send({ op: 'open', sid, algos });
  }

  /** Forgets a session; `drop` also frees its hash state in the worker (not needed after `end`). */
  detach(sid: number, drop: boolean): void {
    if (!this.sessions.delete(sid)) return;
    if (drop && !this.failure) this.send({ op: 'drop', sid });
    if (this.sessions.size === 0) {
      this.worker.unref();
      this.onIdle();
    }
  }

  send(message: HashRequest): void {
    this.worker.postMessage(message);
  }

  terminate(reason: Error): Promise<number> {
    this.die(reason);
    return this.worker.terminate();
  }

  private die(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const listeners = [...this.sessions.values()];
    this.sessions.clear();
    this.worker.unref();
    this.onGone(this);
    for (const listener of listeners) listener.fail(err);
  }
}

export interface HashPoolOptions {
  /** Worker threads at most; started on demand. Default: half the cores, at least 2 and at most 4. */
  size?: number;
  /** Idle workers are stopped after this long (a start costs tens of ms; an idle one holds ~10 MiB). */
  idleMs?: number;
  /**
   * `together`: all algorithms of a stream on the least busy worker. `per-algorithm`: each on its
   * own worker, so md5 and sha512 of one upload run on two cores. Default: `per-algorithm` from two
   * cores: one worker doing md5 + sha512 needs ~3 s of CPU per GiB, which alone caps an upload
   * near 340 MiB/s, below the disk; split, the slower digest (md5, ~1.6-2 s per GiB) is the
   * bound (docs/image.md, Performance). `together` on one core, where threads cannot overlap.
   */
  placement?: 'per-algorithm' | 'together';
  /** Passed to every hasher this pool makes. */
  hasher?: ParallelHashOptions;
}

/**
 * Worker threads that hash image data off the main thread, shared by every upload of the process
 * so an upload does not pay for starting threads. Workers never keep an idle process alive.
 */
export class HashPool {
  private readonly workers: HashWorker[] = [];
  private readonly size: number;
  private readonly idleMs: number;
  private readonly placement: 'per-algorithm' | 'together';
  private idleTimer: NodeJS.Timeout | null = null;
  private nextSid = 1;
  private closed = false;

  constructor(private readonly options: HashPoolOptions = {}) {
    const cores = availableParallelism();
    this.size = Math.max(1, options.size ?? Math.min(4, Math.max(2, Math.floor(cores / 2))));
    this.idleMs = options.idleMs ?? 60_000;
    this.placement = options.placement ?? (cores >= 2 ? 'per-algorithm' : 'together');
  }

  /**
   * A hasher for one stream of data; digests come back in the order of `algos`. `options`
   * (batch size, batches in flight) override the pool's for this stream.
   */
  hasher(algos: string[], options?: ParallelHashOptions): ParallelHash {
    const known = new Set(getHashes());
    for (const algo of algos) if (!known.has(algo)) throw new Error(`unsupported hash algorithm ${algo}`);
    const groups = this.placement === 'together' ? [algos] : algos.map((algo) => [algo]);
    return new ParallelHash(algos, groups, this, { ...this.options.hasher, ...options });
  }

  /** Threads currently running (for tests and diagnostics). */
  get threads(): number {
    return this.workers.length;
  }

  /** Sessions currently open across all workers. */
  get sessions(): number {
    return this.workers.reduce((sum, w) => sum + w.load, 0);
  }

  /** Opens a session for `algos` on the least busy worker, starting one if the pool has room. */
  open(algos: string[], listener: SessionListener): { worker: HashWorker; sid: number } {
    if (this.closed) throw new Error('hash pool is closed');
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    let worker = this.workers.reduce<HashWorker | null>((best, w) => (best === null || w.load < best.load ? w : best), null);
    if (worker === null || (worker.load > 0 && this.workers.length < this.size)) {
      worker = new HashWorker((gone) => this.forget(gone), () => this.scheduleIdle());
      this.workers.push(worker);
    }
    const sid = this.nextSid++;
    worker.attach(sid, listener, algos);
    return { worker, sid };
  }

  /** Stops every worker; open sessions fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopAll(new Error('hash pool is closed'));
  }

  private forget(worker: HashWorker): void {
    const at = this.workers.indexOf(worker);
    if (at >= 0) this.workers.splice(at, 1);
  }

  private scheduleIdle(): void {
    if (this.idleTimer || this.sessions > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.sessions === 0) void this.stopAll(new Error('hash worker stopped while idle'));
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private async stopAll(reason: Error): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await Promise.all([...this.workers].map((w) => w.terminate(reason)));
  }
}

let shared: HashPool | null = null;

/** The process-wide pool image uploads and imports hash with. */
export function sharedHashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}
