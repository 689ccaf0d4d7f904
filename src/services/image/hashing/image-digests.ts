import { Transform, type TransformCallback } from 'node:stream';
import type { ParallelHash } from '../../../common/hashing/parallel-hash.js';
import { sharedHashPool, type HashPool } from '../../../common/hashing/pool.js';

/**
 * Images are large: 2 MiB batches halve the messages (and thread wake-ups) of the pool's 1 MiB
 * default; 4 in flight keep both workers busy while the slower digest (md5) catches up. 8 MiB
 * of batch memory per upload; an image under 2 MiB is hashed on the calling thread.
 */
const IMAGE_BATCHES = { slotBytes: 2 * 1024 * 1024, maxSlots: 4 };

/**
 * Hands `chunk` to `hasher` from a Transform's _transform and passes it on at once (the store
 * writes while it is hashed); `done` is called when the hasher has taken it, which is the
 * back-pressure on the source.
 */
export function hashAndPass(hasher: ParallelHash, stream: Transform, chunk: Buffer, done: TransformCallback): void {
  let copying: Promise<void> | undefined;
  try {
    copying = hasher.update(chunk);
  } catch (err) {
    return done(err as Error);
  }
  if (copying === undefined) return done(null, chunk);
  stream.push(chunk);
  copying.then(() => done(), done);
}

/**
 * Glance's checksum (md5) and os_hash_value of the bytes a Transform passes on, computed on the
 * hash workers so the main thread only copies the data. The Transform calls take() from
 * _transform, finish() from _flush and abort() from _destroy.
 */
export class ImageDigests {
  checksum: string | null = null;
  osHashValue: string | null = null;
  private readonly hasher: ParallelHash;

  constructor(readonly osHashAlgo = 'sha512', pool: HashPool = sharedHashPool()) {
    this.hasher = pool.hasher(['md5', osHashAlgo], IMAGE_BATCHES);
  }

  take(stream: Transform, chunk: Buffer, done: TransformCallback): void {
    hashAndPass(this.hasher, stream, chunk, done);
  }

  /** Waits for the digests, then ends the Transform (or fails it with the hashing error). */
  finish(done: TransformCallback): void {
    this.hasher.digest().then(([md5, osHash]) => {
      this.checksum = md5 ?? null;
      this.osHashValue = osHash ?? null;
      done();
    }, done);
  }

  /** Frees the workers' share of a stream that ended early; harmless after finish(). */
  abort(): void {
    this.hasher.abort();
  }
}

/** md5 + os_hash of the bytes passing through, as Glance's set_data computes them (import, tests). */
export class HashingTransform extends Transform {
  readonly digests: ImageDigests;
  size = 0;

  constructor(osHashAlgo?: string, pool?: HashPool) {
    super();
    this.digests = new ImageDigests(osHashAlgo, pool);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.digests.take(this, chunk, done);
  }

  override _flush(done: TransformCallback): void {
    this.digests.finish(done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.digests.abort();
    done(err);
  }
}
