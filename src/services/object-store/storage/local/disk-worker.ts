import { Worker } from 'node:worker_threads';

/**
 * Small-object disk work on worker threads. An object write through fs/promises is about ten
 * thread-pool round trips (open, write, fdatasync, close, rename, open/fsync/close the directory,
 * readdir...), each waking the event loop; on a busy machine every wake-up waits for a core. A
 * worker does the same system calls synchronously and answers once: one round trip per write,
 * one per read of an object's state. Workers start on first use and stop when idle, so an idle
 * process holds none (each costs ~10 MiB while it runs).
 */

/** Write `chunks` to a new file `dir/name` durably (see writeSmallDurably). */
export interface WriteJob {
  op: 'write';
  tmpDir: string;
  /** The device directory: known to exist durably, never created here. */
  root: string;
  dir: string;
  name: string;
  chunks: Buffer[];
  /**
   * Refuse (code ESTALEWRITE, nothing renamed) when `dir` already holds a file as new as `name`
   * or newer: an object server keeps the newest write (the last-write-wins check done here,
   * where the directory is listed anyway, instead of in a separate read before the upload).
   */
  newerWins?: boolean;
}

export interface WriteResult {
  /** `dir` existed before: its object files (the new one included) for the caller's cleanup. */
  existed: boolean;
  files: string[];
}

/** Read what an object's hash directory holds: names, and the newest files' contents. */
export interface StateJob {
  op: 'state';
  dir: string;
  firstRead: number;
}

export interface StateResult {
  files: string[];
  /** The newest .data or .ts file. */
  main?: string;
  /** A tombstone's JSON, or the newest .meta newer than the data file. */
  mainText?: string;
  meta?: string;
  metaText?: string;
  /** A data file: its size, its first `firstRead` bytes and, when longer, its last ones. */
  size?: number;
  head?: Uint8Array;
  tail?: Uint8Array;
}

type Job = WriteJob | StateJob;

/** Thrown when no worker could run the job (not an I/O error): the caller does it itself. */
export class WorkerUnavailable extends Error {
  override name = 'WorkerUnavailable';
}

/**
 * The worker's program: plain CommonJS evaluated with `eval: true`, so it runs the same from the
 * sources, the tests and the bundle. Object file names are fixed-width timestamps, so their
 * string order is their time order.
 */
const SOURCE = String.raw`
'use strict';
const fs = require('node:fs');
const { randomBytes } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const { dirname, join } = require('node:path');
const OBJECT_FILE = /^\d{10}\.\d{5}\.(data|ts|meta)$/;
const objectFiles = (dir) => fs.readdirSync(dir).filter((f) => OBJECT_FILE.test(f));
const stale = () => Object.assign(new Error('a newer version of the object exists'), { code: 'ESTALEWRITE' });
const failure = (err) => ({ error: { message: String((err && err.message) || err), code: err && err.code } });
// Syncs of one phase run side by side on the thread pool: a flush costs about a millisecond
// here, and concurrent ones share the journal commit and the device flush.
// Only the syncs themselves go to the pool; opening and closing a directory is quick.
const settle = (items, sync) => Promise.all(items.map((x) => new Promise((resolve) => sync(x, (err) => resolve(err || null)))));
function fsyncDir(dir, cb) {
  let fd;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
  } catch (err) {
    return cb(err);
  }
  fs.fsync(fd, (err) => {
    fs.closeSync(fd);
    cb(err);
  });
}
// Group commit: every file of the batch is written first, then all are fdatasync'ed, renamed,
// and each directory fsync'ed once. Every file still has its own fdatasync before its rename
// and its directory's fsync after it.
async function writeBatch(jobs) {
  const out = jobs.map(() => null);
  const live = [];
  jobs.forEach((j, i) => {
    const tmp = join(j.tmpDir, Date.now() + '-' + randomBytes(8).toString('hex') + '.tmp');
    let fd;
    try {
      try {
        fd = fs.openSync(tmp, 'w');
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        try { fs.mkdirSync(j.tmpDir); } catch (e) { if (e.code !== 'EEXIST') throw e; }
        fd = fs.openSync(tmp, 'w');
      }
      let rest = j.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)).filter((c) => c.length > 0);
      while (rest.length > 0) {
        let n = fs.writevSync(fd, rest);
        while (rest.length > 0 && n >= rest[0].length) n -= rest.shift().length;
        if (n > 0) rest[0] = rest[0].subarray(n);
      }
      live.push({ i, j, tmp, fd });
    } catch (err) {
      if (fd !== undefined) fs.closeSync(fd);
      try { fs.unlinkSync(tmp); } catch {}
      out[i] = failure(err);
    }
  });
  const fail = (w, err) => {
    out[w.i] = failure(err);
    try { fs.unlinkSync(w.tmp); } catch {}
  };
  const ready = [];
  const synced = await settle(live, (w, cb) => fs.fdatasync(w.fd, cb));
  live.forEach((w, k) => {
    fs.closeSync(w.fd);
    if (synced[k]) fail(w, synced[k]);
    else ready.push(w);
  });
  const toSync = new Map();
  const renamed = [];
  for (const w of ready) {
    try {
      const target = join(w.j.dir, w.j.name);
      // null: the directory is known to be missing (no rename attempt that would fail)
      let held;
      if (w.j.newerWins) {
        try { held = objectFiles(w.j.dir); } catch (err) { if (err.code !== 'ENOENT') throw err; held = null; }
        const stem = w.j.name.slice(0, 16);
        if (held && held.some((f) => f.slice(0, 16) >= stem)) throw stale();
      }
      try {
        if (held === null) throw Object.assign(new Error('no directory yet'), { code: 'ENOENT' });
        fs.renameSync(w.tmp, target);
        w.existed = true;
        w.held = held;
        w.dirs = [w.j.dir];
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        if (!fs.existsSync(w.j.root)) throw Object.assign(new Error('device ' + w.j.root + ' is gone'), { code: 'ENODEV' });
        const first = fs.mkdirSync(w.j.dir, { recursive: true }) || w.j.root;
        fs.renameSync(w.tmp, target);
        w.existed = false;
        // the new entries: the file in its directory, and each created directory in its parent
        w.dirs = [w.j.dir];
        for (let d = w.j.dir; d.length > w.j.root.length && d.length >= first.length; d = dirname(d)) w.dirs.push(dirname(d));
      }
      for (const d of w.dirs) toSync.set(d, true);
      renamed.push(w);
    } catch (err) {
      fail(w, err);
    }
  }
  const dirs = [...toSync.keys()];
  const dirErrors = await settle(dirs, fsyncDir);
  const dirFailed = new Map();
  dirs.forEach((dir, k) => { if (dirErrors[k]) dirFailed.set(dir, dirErrors[k]); });
  for (const w of renamed) {
    const err = w.dirs.map((d) => dirFailed.get(d)).find(Boolean);
    if (err) { out[w.i] = failure(err); continue; }
    try {
      // what the directory held before (listed for newerWins) plus the new file, else listed now
      out[w.i] = { ok: w.existed ? { existed: true, files: w.held ? [...w.held, w.j.name] : objectFiles(w.j.dir) } : { existed: false, files: [w.j.name] } };
    } catch (e) {
      out[w.i] = { ok: { existed: true } };
    }
  }
  return out;
}
function readAt(fd, length, position) {
  const buf = Buffer.allocUnsafeSlow(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}
function state(j) {
  let files;
  try {
    files = objectFiles(j.dir);
  } catch (err) {
    if (err.code === 'ENOENT') return { files: [] };
    throw err;
  }
  const stem = (f) => f.slice(0, 16);
  const main = files.filter((f) => f.endsWith('.data') || f.endsWith('.ts')).sort().pop();
  if (!main) return { files };
  if (main.endsWith('.ts')) return { files, main, mainText: fs.readFileSync(join(j.dir, main), 'utf8') };
  const meta = files.filter((f) => f.endsWith('.meta') && stem(f) > stem(main)).sort().pop();
  const out = { files, main };
  if (meta) Object.assign(out, { meta, metaText: fs.readFileSync(join(j.dir, meta), 'utf8') });
  const fd = fs.openSync(join(j.dir, main), 'r');
  try {
    out.head = readAt(fd, j.firstRead, 0);
    out.size = out.head.length;
    if (out.head.length === j.firstRead) {
      out.size = fs.fstatSync(fd).size;
      const rest = Math.min(out.size - j.firstRead, j.firstRead);
      if (rest > 0) out.tail = readAt(fd, rest, out.size - rest);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
parentPort.on('message', async (batch) => {
  const writes = batch.filter((j) => j.op === 'write');
  const written = writes.length > 0 ? await writeBatch(writes) : [];
  let w = 0;
  const results = batch.map((j) => {
    if (j.op === 'write') return written[w++];
    try { return { ok: state(j) }; } catch (err) { return failure(err); }
  });
  parentPort.postMessage(results);
});
`;

type Result = { ok: WriteResult | StateResult } | { error: { message: string; code?: string } };

interface Pending {
  job: Job;
  transfer: ArrayBuffer[];
  resolve(v: WriteResult | StateResult): void;
  reject(err: Error): void;
}

/** One worker: a batch in flight, and the jobs that arrived meanwhile (the next batch). */
class DiskWorker {
  private readonly worker: Worker;
  private inFlight: Pending[] = [];
  readonly queue: Pending[] = [];
  private dead = false;

  constructor(private readonly onExit: (w: DiskWorker) => void) {
    this.worker = new Worker(SOURCE, { eval: true, execArgv: [], stdout: false, stderr: false, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    this.worker.unref();
    this.worker.on('message', (results: Result[]) => {
      const done = this.inFlight;
      this.inFlight = [];
      done.forEach((p, i) => {
        const r = results[i];
        if (r && 'ok' in r) p.resolve(r.ok);
        else p.reject(Object.assign(new Error(r?.error.message ?? 'no answer from the disk worker'), { code: r?.error.code }));
      });
      this.next();
    });
    this.worker.on('error', () => this.die());
    this.worker.on('exit', () => this.die());
  }

  get busy(): boolean {
    return this.inFlight.length > 0;
  }

  get load(): number {
    return this.inFlight.length + this.queue.length;
  }

  submit(p: Pending): void {
    if (this.dead) return p.reject(new WorkerUnavailable('disk worker exited'));
    this.queue.push(p);
    if (!this.busy) this.next();
  }

  stop(): void {
    void this.worker.terminate();
  }

  private next(): void {
    if (this.queue.length === 0) return void this.worker.unref();
    this.inFlight = this.queue.splice(0);
    this.worker.ref();
    this.worker.postMessage(
      this.inFlight.map((p) => p.job),
      this.inFlight.flatMap((p) => p.transfer),
    );
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    this.onExit(this);
    for (const p of [...this.inFlight, ...this.queue.splice(0)]) p.reject(new WorkerUnavailable('disk worker exited'));
    this.inFlight = [];
  }
}

/**
 * Up to `size` workers: a job goes to an idle worker (one is started while there is room), else
 * joins the shortest queue; a worker takes its whole queue as its next batch. Workers stop after
 * `idleMs` without work.
 */
export class DiskWorkerPool {
  private readonly workers: DiskWorker[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly size: number,
    private readonly idleMs = 30_000,
  ) {}

  get threads(): number {
    return this.workers.length;
  }

  /** The chunks travel as one buffer whose memory moves to the worker instead of being copied. */
  write(job: WriteJob): Promise<WriteResult> {
    const joined = Buffer.allocUnsafeSlow(job.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of job.chunks) at += c.copy(joined, at);
    return this.run({ ...job, chunks: [joined] }, [joined.buffer as ArrayBuffer]) as Promise<WriteResult>;
  }

  state(job: StateJob): Promise<StateResult> {
    return this.run(job) as Promise<StateResult>;
  }

  close(): void {
    for (const w of this.workers.splice(0)) w.stop();
  }

  private run(job: Job, transfer: ArrayBuffer[] = []): Promise<WriteResult | StateResult> {
    let worker = this.workers.find((w) => !w.busy) ?? null;
    if (!worker && this.workers.length < this.size) {
      try {
        worker = new DiskWorker((gone) => this.forget(gone));
      } catch (err) {
        return Promise.reject(new WorkerUnavailable(err instanceof Error ? err.message : String(err)));
      }
      this.workers.push(worker);
    }
    if (!worker && this.workers.length === 0) return Promise.reject(new WorkerUnavailable('no disk workers'));
    worker ??= this.workers.reduce((best, w) => (w.load < best.load ? w : best));
    this.touch();
    const w = worker;
    return new Promise((resolve, reject) => w.submit({ job, transfer, resolve, reject }));
  }

  private forget(worker: DiskWorker): void {
    const at = this.workers.indexOf(worker);
    if (at >= 0) this.workers.splice(at, 1);
  }

  private touch(): void {
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.idleCheck(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private idleCheck(): void {
    this.idleTimer = null;
    if (this.workers.some((w) => w.load > 0)) return this.touch();
    this.close();
  }
}

/**
 * Writes and reads each have their own workers, so a read never waits behind an fsync. Two of
 * each: a write batch carries every write that arrived meanwhile, so two batches in turn keep
 * the disk busy; a second reader covers a read that misses the page cache. A pool of size 0
 * makes every caller do the work itself through fs/promises (the tests check both ways).
 */
export const diskWorkers = { writes: new DiskWorkerPool(2), reads: new DiskWorkerPool(2) };
