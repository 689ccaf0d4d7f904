import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ParallelHash } from '../../../common/hashing/parallel-hash.js';
import { sharedHashPool, type HashPool } from '../../../common/hashing/pool.js';
import { StorageError, type ObjectWriteMeta } from './types.js';

/**
 * A body that grows past this is large: its MD5 moves to the hash workers and its bytes go on
 * in batches of this size. Smaller bodies pass chunk by chunk and are hashed here at the end.
 */
export const LARGE_BODY_BYTES = 1024 * 1024;

/**
 * Sits between the client body and the file(s): counts and MD5-hashes bytes as they pass, and
 * fails the pipeline as soon as the object grows past its limit, so nothing is ever buffered
 * whole and an oversized upload stops at the first excess byte.
 *
 * The first LARGE_BODY_BYTES pass through as they come (a small object costs what it did) and
 * are kept for hashing. Past that, hashing one core's worth of MD5 on the main thread would cap
 * an upload near the speed of MD5 itself, so the kept bytes and everything after go to a
 * worker-thread hasher (src/common/hashing), and network chunks (64 KiB or less) are gathered
 * into 1 MiB batches: one file write per batch, and the socket keeps being read while the
 * previous batch is written. Memory per upload stays bounded: one batch here, one downstream,
 * and the hasher's slots (whose back-pressure holds the body when the workers fall behind).
 */
export class BodyMeter extends Transform {
  bytes = 0;
  private readonly cap: number;
  /** Bytes already passed on but not hashed yet (the small phase). */
  private readonly head: Buffer[] = [];
  private hasher: ParallelHash | null = null;
  private batch: Buffer[] = [];
  private batched = 0;
  private hex: string | undefined;

  constructor(
    private readonly meta: Pick<ObjectWriteMeta, 'contentLength' | 'maxSize'>,
    private readonly pool: HashPool = sharedHashPool(),
  ) {
    super();
    this.cap = meta.contentLength !== undefined ? Math.min(meta.contentLength, meta.maxSize) : meta.maxSize;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.cap) {
      const tooLarge = this.bytes > this.meta.maxSize;
      cb(tooLarge ? new StorageError('too_large', 'object exceeds the maximum size') : new StorageError('length_mismatch', 'body longer than Content-Length'));
      return;
    }
    let waiting: Promise<void> | undefined;
    if (this.hasher === null) {
      if (this.bytes <= LARGE_BODY_BYTES) {
        this.head.push(chunk);
        cb(null, chunk);
        return;
      }
      this.hasher = this.pool.hasher(['md5']);
      waiting = this.hashAll(this.head.splice(0));
    }
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched >= LARGE_BODY_BYTES) waiting = waiting ? waiting.then(() => this.passBatch()) : this.passBatch();
    if (waiting === undefined) cb();
    else waiting.then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hasher === null) {
      const md5 = createHash('md5');
      for (const chunk of this.head.splice(0)) md5.update(chunk);
      this.hex = md5.digest('hex');
      return cb();
    }
    const hasher = this.hasher;
    const passed = this.batched > 0 ? this.passBatch() : undefined;
    void (passed ?? Promise.resolve())
      .then(() => hasher.digest())
      .then(([md5]) => {
        this.hex = md5;
        cb();
      }, cb);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.hasher?.abort();
    this.head.length = 0;
    this.batch = [];
    cb(err);
  }

  /** The body's MD5 (hex), known once the stream has ended. */
  digest(): string {
    if (this.hex === undefined) throw new Error('the body has not ended yet');
    return this.hex;
  }

  /** Passes the batch on at once (the store writes it while it is hashed); resolves when the hasher has taken it. */
  private passBatch(): Promise<void> | undefined {
    const batch = this.batch.length === 1 ? this.batch[0]! : gather(this.batch, this.batched);
    this.batch = [];
    this.batched = 0;
    this.push(batch);
    return this.hashAll([batch]);
  }

  /** Feeds chunks to the hasher in order, waiting where it asks to (its slots are all busy). */
  private hashAll(chunks: Buffer[]): Promise<void> | undefined {
    const hasher = this.hasher!;
    for (let i = 0; i < chunks.length; i++) {
      const waiting = hasher.update(chunks[i]!);
      if (waiting) return waiting.then(() => this.hashAll(chunks.slice(i + 1)));
    }
    return undefined;
  }
}

/** One buffer of `chunks` (Buffer.concat, without its per-call overhead that costs as much as the copy). */
function gather(chunks: Buffer[], total: number): Buffer {
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Bodies up to this size with a declared length are taken whole by readSmallBody. */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * Every chunk of a body whose declared length is small (the HTTP parser enforces that length,
 * so there is no cap to watch): resolves at its end, rejects if the client goes away first.
 */
export function readSmallBody(body: Readable): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
    };
    const settle = (err: Error | null): void => {
      body.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (err) reject(err);
      else resolve(chunks);
    };
    const onEnd = (): void => settle(null);
    const onClose = (): void => settle(new StorageError('client_disconnect', 'client disconnected'));
    if (body.readableEnded) return resolve(chunks);
    // A client that went away while the request waited for its turn: its stream has already
    // closed and will never say so again.
    if (body.destroyed) return reject(new StorageError('client_disconnect', 'client disconnected'));
    body.on('data', onData).once('end', onEnd).once('error', settle).once('close', onClose);
  });
}

/** Rejects before reading anything when the declared length already exceeds the limit. */
export function precheckWrite(meta: ObjectWriteMeta): void {
  if (meta.contentLength !== undefined && meta.contentLength > meta.maxSize) {
    throw new StorageError('too_large', 'object exceeds the maximum size');
  }
}

/** After the body ended: the length and the client's ETag must match what was received. */
export function verifyWrite(meta: ObjectWriteMeta, bytes: number, etag: string): void {
  if (meta.contentLength !== undefined && bytes !== meta.contentLength) {
    throw new StorageError('length_mismatch', `received ${bytes} bytes, expected ${meta.contentLength}`);
  }
  if (meta.etag !== undefined && meta.etag !== '') {
    const want = meta.etag.replace(/^"(.*)"$/, '$1').toLowerCase();
    if (want !== etag) throw new StorageError('etag_mismatch', 'ETag does not match the body MD5');
  }
}

/** A failed body stream is the client's doing unless the failure is already classified. */
export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageError('insufficient_storage', 'device full');
  return new StorageError('client_disconnect', err instanceof Error ? err.message : 'client disconnected');
}
