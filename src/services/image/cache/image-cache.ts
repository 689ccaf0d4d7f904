import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Logger } from '../../../common/log.js';
import type { ParallelHash } from '../../../common/hashing/parallel-hash.js';
import { sharedHashPool } from '../../../common/hashing/pool.js';
import { READ_CHUNK } from '../stores/filesystem.js';
import { writeStreamToFile } from '../stores/file-writer.js';
import { hashAndPass } from '../hashing/image-digests.js';
import type { ByteRange } from '../stores/types.js';

/** One cached image as GET /v2/cache lists it (Glance's cache driver columns; times are epoch seconds). */
export interface CachedImage {
  image_id: string;
  hits: number;
  last_accessed: number;
  last_modified: number;
  size: number;
}

/** What the cached bytes must match before they are trusted (Glance verifies the md5 on the way in). */
export interface Expected {
  size: number;
  checksum: string | null;
}

/** Image ids become file names: anything else is never looked up on disk. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The local image cache of this node (Glance's image_cache with the xattr-free layout):
 * `<root>/<id>` holds cached data, `incomplete/` data being written, `queue/` images waiting for
 * the prefetcher, `meta/<id>.json` hits and access times. The cache never holds more than
 * `maxSize` bytes: least recently used images are evicted to make room, larger ones are not cached.
 */
export class ImageCache {
  private readonly incomplete: string;
  private readonly queueDir: string;
  private readonly metaDir: string;

  constructor(readonly root: string, readonly maxSize: number, private readonly log: Logger, private readonly now: () => Date = () => new Date()) {
    this.incomplete = join(root, 'incomplete');
    this.queueDir = join(root, 'queue');
    this.metaDir = join(root, 'meta');
  }

  /** Creates the directories and drops writes a crash left half done. */
  async init(): Promise<void> {
    for (const dir of [this.root, this.incomplete, this.queueDir, this.metaDir]) await mkdir(dir, { recursive: true });
    for (const name of await readdir(this.incomplete)) await rm(join(this.incomplete, name), { force: true });
  }

  private dataPath(id: string): string {
    return join(this.root, id);
  }

  private metaPath(id: string): string {
    return join(this.metaDir, `${id}.json`);
  }

  async isCached(id: string): Promise<boolean> {
    return SAFE_ID.test(id) && (await exists(this.dataPath(id)));
  }

  /** The cached bytes (or a range of them), counting a hit; null when the image is not cached. */
  async open(id: string, range?: ByteRange): Promise<Readable | null> {
    if (!(await this.isCached(id))) return null;
    let stream: Readable;
    try {
      const fh = await open(this.dataPath(id), 'r');
      stream = fh.createReadStream({ highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const meta = await this.readMeta(id);
    if (meta) await this.writeMeta({ ...meta, hits: meta.hits + 1, last_accessed: this.epoch() });
    return stream;
  }

  async list(): Promise<CachedImage[]> {
    const entries: CachedImage[] = [];
    for (const name of await readdir(this.root)) {
      if (!SAFE_ID.test(name) || ['incomplete', 'queue', 'meta'].includes(name)) continue;
      const meta = await this.readMeta(name);
      if (meta) entries.push(meta);
    }
    return entries.sort((a, b) => (a.image_id < b.image_id ? -1 : 1));
  }

  /** Queued image ids, oldest first. */
  async queued(): Promise<string[]> {
    const names = (await readdir(this.queueDir)).filter((n) => SAFE_ID.test(n));
    const timed = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.queueDir, n)).catch(() => null))?.mtimeMs ?? 0 })));
    return timed.sort((a, b) => a.t - b.t || (a.n < b.n ? -1 : 1)).map((e) => e.n);
  }

  /** Queues an image for the prefetcher; false when it is cached already (Glance then does nothing). */
  async queue(id: string): Promise<boolean> {
    if (!SAFE_ID.test(id) || (await this.isCached(id))) return false;
    await writeFile(join(this.queueDir, id), '');
    return true;
  }

  async dequeue(id: string): Promise<void> {
    if (SAFE_ID.test(id)) await rm(join(this.queueDir, id), { force: true });
  }

  async isQueued(id: string): Promise<boolean> {
    return SAFE_ID.test(id) && (await exists(join(this.queueDir, id)));
  }

  async delete(id: string): Promise<void> {
    if (!SAFE_ID.test(id)) return;
    await rm(this.dataPath(id), { force: true });
    await rm(this.metaPath(id), { force: true });
  }

  async clearCached(): Promise<number> {
    const cached = await this.list();
    for (const entry of cached) await this.delete(entry.image_id);
    return cached.length;
  }

  async clearQueued(): Promise<number> {
    const queued = await this.queued();
    for (const id of queued) await this.dequeue(id);
    return queued.length;
  }

  /**
   * Copies `source` into the cache as image `id`. Resolves true once the bytes are cached, false
   * when the image cannot be cached (already cached or being cached, larger than the cache, or
   * its bytes do not match `expected`). Rejects only when `source` fails.
   */
  async store(id: string, source: Readable, expected: Expected): Promise<boolean> {
    if (!SAFE_ID.test(id) || expected.size > this.maxSize || (await this.isCached(id))) {
      source.resume();
      return false;
    }
    const partial = join(this.incomplete, id);
    let out: FileHandle;
    try {
      out = await open(partial, 'wx');
    } catch (err) {
      // Someone else is caching this image right now.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        source.resume();
        return false;
      }
      throw err;
    }
    // md5 on the hash workers and batched, synced writes (file-writer.ts): a cache fill costs the
    // HTTP thread a copy per byte, not md5 and one write per 64 KiB chunk.
    const md5 = new Md5Transform();
    // Failing it before the writer listens must not be an uncaught error; the writer sees it destroyed.
    md5.on('error', () => undefined);
    // pipe() alone would leave md5 waiting forever for a source that failed or was cut off.
    source.once('error', (err) => md5.destroy(err));
    const endedEarly = (): void => {
      if (!source.readableEnded) md5.destroy(new Error('image data ended early'));
    };
    source.once('close', endedEarly);
    // A download broken while the checks above were awaited has fired its events already.
    if (source.destroyed) endedEarly();
    try {
      let size: number;
      try {
        size = await writeStreamToFile(source.pipe(md5), out.fd);
      } catch (err) {
        source.destroy();
        throw err;
      } finally {
        source.unpipe(md5);
        await out.close();
      }
      const digest = md5.hex;
      if (size !== expected.size || (expected.checksum !== null && digest !== expected.checksum)) {
        this.log.warn({ image: id, size, expected: expected.size }, 'cached image data did not match the image; discarded');
        await rm(partial, { force: true });
        return false;
      }
      await this.makeRoom(size, id);
      await rename(partial, this.dataPath(id));
      const at = this.epoch();
      await this.writeMeta({ image_id: id, hits: 0, last_accessed: at, last_modified: at, size });
      return true;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  /**
   * A pass-through for a download that also fills the cache (Glance's cache_tee_iter): the
   * client gets every byte; the cache keeps them only if the whole image went through intact.
   */
  tee(id: string, expected: Expected): Transform {
    const sink = new PassThrough();
    // store() may not be reading yet when the download breaks: its own pipeline reports the error.
    sink.on('error', () => undefined);
    const caching = this.store(id, sink, expected).catch((err: unknown) => {
      this.log.warn({ err, image: id }, 'caching a downloaded image failed');
      return false;
    });
    return new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        this.push(chunk);
        if (sink.write(chunk)) done();
        else sink.once('drain', () => done());
      },
      flush(done: TransformCallback) {
        sink.end();
        void caching.then(() => done());
      },
      destroy(err: Error | null, done: (error: Error | null) => void) {
        // The client went away: what was written is incomplete and must not be kept.
        if (!sink.writableEnded) sink.destroy(new Error('download interrupted'));
        done(err);
      },
    });
  }

  /** Evicts least recently used images until `incoming` more bytes fit. */
  private async makeRoom(incoming: number, except: string): Promise<void> {
    const entries = (await this.list()).filter((e) => e.image_id !== except).sort((a, b) => a.last_accessed - b.last_accessed);
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    for (const entry of entries) {
      if (total + incoming <= this.maxSize) break;
      await this.delete(entry.image_id);
      total -= entry.size;
      this.log.info({ image: entry.image_id, size: entry.size }, 'evicted image from the cache');
    }
  }

  private epoch(): number {
    return this.now().getTime() / 1000;
  }

  private async readMeta(id: string): Promise<CachedImage | null> {
    try {
      return JSON.parse(await readFile(this.metaPath(id), 'utf8')) as CachedImage;
    } catch {
      // Data without metadata (a crash between rename and meta write) is still served; list it anew.
      const info = await stat(this.dataPath(id)).catch(() => null);
      return info ? { image_id: id, hits: 0, last_accessed: info.mtimeMs / 1000, last_modified: info.mtimeMs / 1000, size: info.size } : null;
    }
  }

  private async writeMeta(meta: CachedImage): Promise<void> {
    const tmp = join(this.metaDir, `.${meta.image_id}.${randomUUID()}`);
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, this.metaPath(meta.image_id));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** md5 of the bytes passing through, computed on the hash workers (a 1 GiB image costs ~2 s of md5). */
class Md5Transform extends Transform {
  hex: string | null = null;
  private readonly hasher: ParallelHash = sharedHashPool().hasher(['md5'], { slotBytes: 2 * 1024 * 1024, maxSlots: 4 });

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    hashAndPass(this.hasher, this, chunk, done);
  }

  override _flush(done: TransformCallback): void {
    this.hasher.digest().then(([hex]) => {
      this.hex = hex ?? null;
      done();
    }, done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.hasher.abort();
    done(err);
  }
}
