import { close, open, read } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Bytes per read, and the size of the pooled buffers. */
export const FILE_READ_CHUNK = 1024 * 1024;

/** Reads kept ahead of the socket while a body is sent. */
const READ_AHEAD = 4;

/**
 * 1 MiB buffers that have been used before. A buffer fresh from the allocator costs a page
 * fault per 4 KiB the first time it is filled (expensive in a virtual machine): a test server
 * reading a page-cached file into fresh buffers sent 370-410 MB/s to curl, into reused ones
 * 960-1,160 MB/s. Buffers come back only once the socket write that carried them completed.
 */
class BufferPool {
  private readonly idle: Buffer[] = [];

  constructor(private readonly keep: number) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafeSlow(FILE_READ_CHUNK);
  }

  give(buf: Buffer): void {
    if (this.idle.length < this.keep) this.idle.push(buf);
  }

  get size(): number {
    return this.idle.length;
  }
}

export const fileBufferPool = new BufferPool(8);

/**
 * The bytes [start, end) of a file as a stream. Read like any stream, it behaves like
 * fs.createReadStream (reads of up to 1 MiB into new buffers). Piped into an HTTP response
 * (Fastify sends stream bodies with `pipe`), it writes the response itself: READ_AHEAD reads
 * in flight into pooled buffers, each written with a callback that returns its buffer to the
 * pool, the response's back-pressure respected. The file is opened on first use.
 */
export class FileBody extends Readable {
  private fd: Promise<number> | null = null;
  private readonly reading = new Set<Promise<unknown>>();
  private position: number;
  private pumping = false;

  constructor(
    private readonly path: string,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: FILE_READ_CHUNK });
    this.position = start;
  }

  override _read(): void {
    const length = Math.min(FILE_READ_CHUNK, this.end - this.position);
    if (length <= 0) return void this.push(null);
    const buf = Buffer.allocUnsafeSlow(length);
    this.readAt(buf, length, this.position).then(
      (n) => {
        this.position += n;
        if (n === 0) return void this.destroy(new Error(`${this.path} ended before its expected length`));
        this.push(buf.subarray(0, n));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (!(destination instanceof ServerResponse) || this.pumping || this.readableFlowing !== null) return super.pipe(destination, options);
    this.pumping = true;
    void this.pumpTo(destination, options?.end !== false);
    return destination;
  }

  private async pumpTo(res: ServerResponse, endResponse: boolean): Promise<void> {
    const reads: Array<Promise<{ buf: Buffer; n: number }>> = [];
    try {
      for (;;) {
        while (reads.length < READ_AHEAD && this.position < this.end) {
          const length = Math.min(FILE_READ_CHUNK, this.end - this.position);
          const buf = fileBufferPool.take();
          reads.push(this.readAt(buf, length, this.position).then((n) => ({ buf, n })));
          this.position += length;
        }
        const next = reads.shift();
        if (!next) break;
        const { buf, n } = await next;
        if (this.destroyed) return;
        if (res.destroyed) return void this.destroy(); // the client went away: release the file
        if (n === 0) throw new Error(`${this.path} ended before its expected length`);
        // the buffer is the socket's until this write completes; only then is it reused
        const flowing = res.write(buf.subarray(0, n), () => fileBufferPool.give(buf));
        if (!flowing) await drained(res);
      }
      if (endResponse) res.end();
      this.push(null);
      this.resume();
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      // reads left behind by a failure or a gone client land unobserved
      for (const r of reads) r.catch(() => undefined);
    }
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    if (!fd) return cb(err);
    // reads still in flight keep the descriptor until they land (a closed number may be reused)
    void Promise.allSettled([...this.reading]).then(() =>
      fd.then(
        (n) => close(n, () => cb(err)),
        () => cb(err),
      ),
    );
  }

  /** Reads up to `length` bytes at `position` (fewer only at the end of the file). */
  private readAt(buf: Buffer, length: number, position: number): Promise<number> {
    if (this.destroyed) return Promise.reject(new Error('the body was destroyed'));
    const fd = (this.fd ??= openForReading(this.path));
    const done = fd.then(async (n) => {
      let got = 0;
      while (got < length) {
        const r = await readOnce(n, buf, got, length - got, position + got);
        if (r === 0) break;
        got += r;
      }
      return got;
    });
    this.reading.add(done);
    void done.then(
      () => this.reading.delete(done),
      () => this.reading.delete(done),
    );
    return done;
  }
}

function openForReading(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readOnce(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Resolves when the response can take more, or is gone (also when it was gone already). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.closed) return resolve();
    const done = (): void => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
