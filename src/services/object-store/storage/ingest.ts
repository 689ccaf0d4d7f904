import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError, type ObjectWriteMeta } from './types.js';

/**
 * Sits between the client body and the file(s): counts and MD5-hashes bytes as they pass, and
 * fails the pipeline as soon as the object grows past its limit, so nothing is ever buffered
 * whole and an oversized upload stops at the first excess byte.
 */
export class BodyMeter extends Transform {
  bytes = 0;
  private readonly md5: Hash = createHash('md5');
  private readonly cap: number;

  constructor(private readonly meta: Pick<ObjectWriteMeta, 'contentLength' | 'maxSize'>) {
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
    this.md5.update(chunk);
    cb(null, chunk);
  }

  private hex: string | undefined;

  /** The body's MD5 (hex); computed once, after the last chunk. */
  digest(): string {
    this.hex ??= this.md5.digest('hex');
    return this.hex;
  }
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
